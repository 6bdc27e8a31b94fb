#include "monitor/monitor.h"

#include "monitor/json_writer.h"

namespace fdplug::qmp {

Monitor::Monitor(Dispatcher &dispatcher, Chardev &chardev, Json greeting_version)
    : dispatcher_(dispatcher),
      chardev_(chardev),
      version_(std::move(greeting_version)),
      stream_(
          [this](Json msg) {
              const bool was = negotiated_;
              bool now = was;
              send(dispatcher_.handle(msg, now));
              if (now != was) set_negotiated(now);
              dispatcher_.run_after_reply();
          },
          [this](const std::string &desc) {
              send(Dispatcher::error_reply({"GenericError", desc}, nullptr));
          }) {
    chardev_.set_client(this);
}

Monitor::~Monitor() {
    set_negotiated(false);
    chardev_.set_client(nullptr);
}

void Monitor::send(const Json &message) {
    chardev_.write(to_qmp_text(message) + "\r\n");
}

void Monitor::set_negotiated(bool on) {
    negotiated_ = on;
    if (on && !event_token_) {
        event_token_ =
            dispatcher_.subscribe([this](const std::string &line) { chardev_.write(line); });
    } else if (!on && event_token_) {
        dispatcher_.unsubscribe(event_token_);
        event_token_ = 0;
    }
}

void Monitor::chardev_opened() {
    stream_.reset();
    set_negotiated(false);
    Json greeting = Json::object();
    greeting["QMP"] = Json{{"version", version_}, {"capabilities", Json::array()}};
    send(greeting);
}

void Monitor::chardev_received(std::string_view bytes) {
    stream_.feed(bytes);
}

void Monitor::chardev_closed() {
    stream_.reset();
    set_negotiated(false);
}

}  // namespace fdplug::qmp
