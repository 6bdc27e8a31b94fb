#include "chardev/chardev.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fdplug {

namespace {

std::string errno_text() {
    return std::strerror(errno);
}

bool set_nonblocking(int fd) {
    const int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

}  // namespace

std::unique_ptr<Chardev> Chardev::open(const ChardevSpec &spec, std::string *error,
                                       GMainContext *context) {
    std::unique_ptr<Chardev> chr(new Chardev(spec, context));
    if (!chr->start(error)) return nullptr;
    return chr;
}

bool Chardev::start(std::string *error) {
    const std::string where = spec_.transport == ChardevSpec::Transport::Unix
                                  ? spec_.path
                                  : spec_.host + ":" + spec_.port;
    auto fail = [&](const std::string &what) {
        if (error)
            *error = "chardev '" + spec_.id + "': " + what + " '" + where + "': " + errno_text();
        return false;
    };
    int fd = -1;
    if (spec_.transport == ChardevSpec::Transport::Unix) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (spec_.path.size() >= sizeof addr.sun_path) {
            errno = ENAMETOOLONG;
            return fail("socket path too long");
        }
        std::memcpy(addr.sun_path, spec_.path.c_str(), spec_.path.size() + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return fail("cannot create socket for");
        if (spec_.server) {
            unlink(spec_.path.c_str());
            if (bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 ||
                listen(fd, 16) < 0) {
                close(fd);
                return fail("cannot listen on");
            }
        } else if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0) {
            close(fd);
            return fail("cannot connect to");
        }
    } else {
        addrinfo hints{}, *res = nullptr;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = spec_.server ? AI_PASSIVE : 0;
        if (getaddrinfo(spec_.host.c_str(), spec_.port.c_str(), &hints, &res) != 0 || !res) {
            errno = EINVAL;
            return fail("cannot resolve");
        }
        fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
        bool ok = fd >= 0;
        if (ok && spec_.server) {
            const int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            ok = bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 16) == 0;
        } else if (ok) {
            ok = connect(fd, res->ai_addr, res->ai_addrlen) == 0;
        }
        freeaddrinfo(res);
        if (!ok) {
            const int saved = errno;
            if (fd >= 0) close(fd);
            errno = saved;
            return fail(spec_.server ? "cannot listen on" : "cannot connect to");
        }
    }
    if (!spec_.server) {
        adopt_connection(fd);
        return true;
    }
    listen_fd_ = fd;
    if (spec_.wait) {
        const int peer = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (peer < 0) return fail("accept failed on");
        adopt_connection(peer);
    }
    set_nonblocking(listen_fd_);
    if (!connected()) listen_watch_ = watch(listen_fd_, G_IO_IN, &Chardev::on_listen_ready);
    return true;
}

// A watch of fd in the chardev's context. The chardev keeps a reference, so unwatch() is
// safe whether or not the source is still attached.
GSource *Chardev::watch(int fd, GIOCondition cond, GUnixFDSourceFunc callback) {
    GSource *source = g_unix_fd_source_new(fd, cond);
    g_source_set_callback(source, G_SOURCE_FUNC(callback), this, nullptr);
    g_source_attach(source, context_);
    return source;
}

void Chardev::unwatch(GSource *&source) {
    if (!source) return;
    g_source_destroy(source);
    g_source_unref(source);
    source = nullptr;
}

Chardev::~Chardev() {
    unwatch(listen_watch_);
    unwatch(conn_watch_);
    if (conn_fd_ >= 0) close(conn_fd_);
    if (listen_fd_ >= 0) {
        close(listen_fd_);
        if (spec_.transport == ChardevSpec::Transport::Unix) unlink(spec_.path.c_str());
    }
}

void Chardev::adopt_connection(int fd) {
    // Not watched while a peer is connected: a waiting peer kept the listener readable, and
    // the main loop spun at full CPU until it was accepted.
    unwatch(listen_watch_);
    set_nonblocking(fd);
    conn_fd_ = fd;
    out_.clear();
    out_pos_ = 0;
    update_watch();
    if (client_) client_->chardev_opened();
}

void Chardev::set_client(ChardevClient *client) {
    client_ = client;
    if (client_ && connected()) client_->chardev_opened();
}

gboolean Chardev::on_listen_ready(gint, GIOCondition, gpointer self_ptr) {
    auto *self = static_cast<Chardev *>(self_ptr);
    if (self->connected()) return G_SOURCE_CONTINUE;  // one peer at a time; others wait
    const int peer = accept4(self->listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (peer >= 0) self->adopt_connection(peer);
    return G_SOURCE_CONTINUE;
}

gboolean Chardev::on_conn_ready(gint fd, GIOCondition cond, gpointer self_ptr) {
    auto *self = static_cast<Chardev *>(self_ptr);
    if (cond & G_IO_OUT) self->flush();
    if (!self->connected()) return G_SOURCE_REMOVE;
    if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
        if (!(self->watch_cond_ & G_IO_IN)) {  // paused, and the peer hung up or failed
            self->disconnect();
            return G_SOURCE_REMOVE;
        }
        char buf[kReadChunk];
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            if (self->client_) self->client_->chardev_received(std::string_view(buf, size_t(n)));
            self->update_watch();
            return self->connected() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return G_SOURCE_CONTINUE;
        self->disconnect();  // destroys this source too
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void Chardev::write(std::string_view bytes) {
    if (!connected()) return;
    out_.append(bytes);
    if (backlog() > kMaxBacklog) {  // the peer stopped reading
        disconnect();
        return;
    }
    flush();
}

void Chardev::flush() {
    while (connected() && out_pos_ < out_.size()) {
        const ssize_t n =
            send(conn_fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
        if (n > 0) {
            out_pos_ += size_t(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            break;
        } else {
            disconnect();
            return;
        }
    }
    if (out_pos_ == out_.size()) {
        // Give back what a big backlog took.
        if (out_.capacity() > (64u << 10)) std::string().swap(out_);
        out_.clear();
        out_pos_ = 0;
    } else if (out_pos_ * 2 > out_.size()) {
        // Drop what was sent: for a peer that reads, but never fast enough for the queue to
        // empty, the sent bytes used to stay and memory grew with all that was ever sent.
        out_.erase(0, out_pos_);
        out_pos_ = 0;
    }
    update_watch();
}

// Watches output while some waits, and input unless too much waits (kPauseBacklog).
void Chardev::update_watch() {
    if (!connected()) return;
    const size_t pending = backlog();
    const auto cond = GIOCondition(G_IO_HUP | G_IO_ERR | (pending <= kPauseBacklog ? G_IO_IN : 0) |
                                   (pending ? G_IO_OUT : 0));
    if (conn_watch_ && cond == watch_cond_) return;
    unwatch(conn_watch_);
    watch_cond_ = cond;
    conn_watch_ = watch(conn_fd_, cond, &Chardev::on_conn_ready);
}

void Chardev::disconnect() {
    if (!connected()) return;
    unwatch(conn_watch_);
    close(conn_fd_);
    conn_fd_ = -1;
    std::string().swap(out_);
    out_pos_ = 0;
    // The next waiting peer is accepted from the main loop.
    if (listen_fd_ >= 0) listen_watch_ = watch(listen_fd_, G_IO_IN, &Chardev::on_listen_ready);
    if (client_) client_->chardev_closed();
}

}  // namespace fdplug
