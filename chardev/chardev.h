// Character devices of the reference host: the byte streams that carry qtest and QMP. Only
// sockets (UNIX and TCP), listening or connecting, one peer at a time, like QEMU's socket
// chardev. Writes never block the main loop. Its watches go to one GLib main context: the
// default one (fdplug-host's main loop), or one its owner iterates itself (the Bochs adapter).
#pragma once

#include <glib-unix.h>
#include <glib.h>

#include <memory>
#include <string>
#include <string_view>

#include "chardev/chardev_spec.h"

namespace fdplug {

// What a chardev delivers to its user (the qtest server, a QMP monitor).
class ChardevClient {
  public:
    virtual ~ChardevClient() = default;
    virtual void chardev_opened() = 0;  // a peer is now connected
    virtual void chardev_received(std::string_view bytes) = 0;
    virtual void chardev_closed() = 0;  // the peer went away
};

class Chardev {
  public:
    // Listens or connects. A listening chardev with wait=on blocks here until a peer connects.
    // Its sockets are watched in `context` (nullptr: the default main context).
    static std::unique_ptr<Chardev> open(const ChardevSpec &spec, std::string *error,
                                         GMainContext *context = nullptr);
    ~Chardev();
    Chardev(const Chardev &) = delete;
    Chardev &operator=(const Chardev &) = delete;

    // chardev_opened() follows at once if a peer is already connected.
    void set_client(ChardevClient *client);
    // Queued and flushed from the main loop; a peer whose backlog passes kMaxBacklog is dropped.
    void write(std::string_view bytes);
    bool connected() const { return conn_fd_ >= 0; }
    void disconnect();
    const std::string &id() const { return spec_.id; }
    size_t backlog() const { return out_.size() - out_pos_; }  // bytes not yet sent

    static constexpr size_t kMaxBacklog = 16u << 20;
    // The peer's input is not read while more than this waits to be sent to it (flow control):
    // only what comes unasked (events) can then reach kMaxBacklog.
    static constexpr size_t kPauseBacklog = 1u << 20;
    // Bytes read per main-loop turn: bounds the work one peer causes before others are served.
    static constexpr size_t kReadChunk = 1024;

  private:
    Chardev(ChardevSpec spec, GMainContext *context) : spec_(std::move(spec)), context_(context) {}
    bool start(std::string *error);
    void adopt_connection(int fd);
    void flush();
    void update_watch();
    GSource *watch(int fd, GIOCondition cond, GUnixFDSourceFunc callback);
    static void unwatch(GSource *&source);
    static gboolean on_listen_ready(gint fd, GIOCondition, gpointer self);
    static gboolean on_conn_ready(gint fd, GIOCondition cond, gpointer self);

    ChardevSpec spec_;
    GMainContext *context_;
    ChardevClient *client_ = nullptr;
    int listen_fd_ = -1, conn_fd_ = -1;
    GSource *listen_watch_ = nullptr, *conn_watch_ = nullptr;
    GIOCondition watch_cond_ = GIOCondition(0);
    std::string out_;
    size_t out_pos_ = 0;
};

}  // namespace fdplug
