// One QMP monitor: the protocol on one chardev (greeting, capabilities negotiation, requests,
// replies and events), with its own negotiation state per connection.
#pragma once

#include "chardev/chardev.h"
#include "monitor/dispatcher.h"
#include "monitor/json_stream.h"

namespace fdplug::qmp {

class Monitor : public ChardevClient {
  public:
    Monitor(Dispatcher &dispatcher, Chardev &chardev, Json greeting_version);
    ~Monitor() override;

    void chardev_opened() override;
    void chardev_received(std::string_view bytes) override;
    void chardev_closed() override;

  private:
    void send(const Json &message);
    void set_negotiated(bool on);

    Dispatcher &dispatcher_;
    Chardev &chardev_;
    Json version_;
    JsonStream stream_;
    bool negotiated_ = false;
    int event_token_ = 0;
};

}  // namespace fdplug::qmp
