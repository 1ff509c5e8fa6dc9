#include "policy/openpi_client.hpp"

#include <QCoreApplication>
#include <QEventLoop>
#include <QNetworkRequest>
#include <QThread>
#include <QTimer>
#include <QWebSocket>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <clocale>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "policy/image_prep.hpp"

namespace flywheel {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The wait before connecting again after a failure: 0.2 s, doubling to 5 s; a success resets it.
constexpr double kFirstBackoff = 0.2, kMaxBackoff = 5.0;

constexpr const char* kNotRun = "the client's thread did not run the request";

// A traceback's last line says what went wrong.
std::string lastLine(const QString& text) {
  const QStringList lines = text.trimmed().split('\n', Qt::SkipEmptyParts);
  return lines.isEmpty() ? std::string("(empty)") : lines.back().trimmed().toStdString();
}

// Qt 6 drops every event on a QThread (queued calls, timers, socket notifications) while the process has
// no QCoreApplication. A process without one (a plain C++ program) gets one made here, shared by the
// clients alive, and deleted by the last of them; one the caller made (the GUI's QApplication, the CLI's)
// is used as it is. Made while none exists, so no second one; the process locale stays as it was.
class ApplicationLease {
 public:
  ApplicationLease() {
    std::lock_guard lock(mutex_);
    if (users_ == 0) {
      if (QCoreApplication::instance()) return;  // not ours: nothing to hold
      const std::string locale = std::setlocale(LC_ALL, nullptr);
      application_ = new QCoreApplication(argc_, argv_);
      std::setlocale(LC_ALL, locale.c_str());
      creator_ = std::this_thread::get_id();
    }
    ++users_;
    held_ = true;
  }
  ~ApplicationLease() {
    if (!held_) return;
    std::lock_guard lock(mutex_);
    if (--users_ > 0) return;
    // A QObject is deleted on its own thread; from another, the application stays until the process ends.
    if (creator_ == std::this_thread::get_id()) delete application_;
    application_ = nullptr;
  }
  ApplicationLease(const ApplicationLease&) = delete;
  ApplicationLease& operator=(const ApplicationLease&) = delete;

 private:
  bool held_ = false;
  static inline std::mutex mutex_;
  static inline int users_ = 0;
  static inline QCoreApplication* application_ = nullptr;
  static inline std::thread::id creator_;
  static inline int argc_ = 1;
  static inline char name_[] = "flywheel";
  static inline char* argv_[] = {name_, nullptr};
};

}  // namespace

// The socket lives on a thread of its own with a Qt event loop; callers on any thread (the executor's
// worker) hand it work and block until the work is done, so the control loop never meets Qt.
struct OpenPiPolicy::Connection {
  ApplicationLease application;  // first made, last gone: outlives the thread and the socket
  const OpenPiOptions& options;
  const std::string shown;  // the address as printed: no credentials, no query values
  QThread thread;
  QObject* context = new QObject;  // lives on `thread`
  QWebSocket* socket = nullptr;    // lives on `thread`; null while disconnected
  mutable std::mutex mutex;
  std::string metadata;
  std::atomic<bool> cancelled{false};
  std::atomic<std::uint64_t> reconnects{0};
  // Reconnection state, on `thread` only. After a failure no connection is tried before retryAt:
  // a server that fails every request is not hammered (each failure is a traceback in its log).
  bool attempted = false;
  double backoff = 0.0;  // seconds; 0 after a success
  std::chrono::steady_clock::time_point retryAt;
  std::string lastFailure;

  explicit Connection(const OpenPiOptions& o) : options(o), shown(redactAddress(o.url)) {
    thread.setObjectName("openpi client");
    context->moveToThread(&thread);
    thread.start();
  }
  ~Connection() {
    (void)runOnThread([this] { dropSocket(); });
    thread.quit();
    thread.wait();
    delete context;
  }

  // Returns false when Qt did not run the work (it drops events it cannot deliver).
  template <typename Work>
  [[nodiscard]] bool runOnThread(Work work) {
    bool ran = false;
    QMetaObject::invokeMethod(
        context,
        [&] {
          ran = true;
          work();
        },
        Qt::BlockingQueuedConnection);
    return ran;
  }

  // Qt's messages may quote the address: never with its secrets.
  std::string scrub(std::string text) const {
    for (std::size_t at = text.find(options.url); at != std::string::npos; at = text.find(options.url, at))
      text.replace(at, options.url.size(), shown);
    return text;
  }

  void noteFailure(const std::string& reason) {
    backoff = backoff == 0.0 ? kFirstBackoff : std::min(kMaxBackoff, 2.0 * backoff);
    retryAt =
        std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                               std::chrono::duration<double>(backoff));
    lastFailure = reason;
  }

  void dropSocket() {
    if (!socket) return;
    socket->abort();
    delete socket;
    socket = nullptr;
  }

  // Waits for the next binary frame; on a text frame, a close, a socket error or the timeout, returns
  // nullopt with `failure` saying which.
  std::optional<QByteArray> nextBinaryFrame(double timeout, std::string& failure, bool sendFirst = false,
                                            const QByteArray& request = {}) {
    QEventLoop wait;
    std::optional<QByteArray> frame;
    QObject::connect(socket, &QWebSocket::binaryMessageReceived, &wait, [&](const QByteArray& message) {
      frame = message;
      wait.quit();
    });
    QObject::connect(socket, &QWebSocket::textMessageReceived, &wait, [&](const QString& text) {
      failure = "the server reported an error: " + lastLine(text);
      wait.quit();
    });
    QObject::connect(socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), &wait,
                     [&](QAbstractSocket::SocketError) {
                       if (failure.empty()) failure = socket->errorString().toStdString();
                       wait.quit();
                     });
    QObject::connect(socket, &QWebSocket::disconnected, &wait, [&] {
      // A refused connection also ends here, before the error signal: name the socket's error if any.
      if (failure.empty())
        failure = socket->error() != QAbstractSocket::UnknownSocketError ? socket->errorString().toStdString()
                                                                         : "the server closed the connection";
      wait.quit();
    });
    QTimer::singleShot(static_cast<int>(timeout * 1000), &wait, &QEventLoop::quit);
    if (sendFirst) socket->sendBinaryMessage(request);
    wait.exec();
    if (!frame && failure.empty()) {
      char text[64];
      std::snprintf(text, sizeof text, "no answer within %.1f s", timeout);
      failure = text;
    }
    return frame;
  }

  void connectOnThread(std::string& error) {
    if (socket && socket->state() == QAbstractSocket::ConnectedState) return;
    dropSocket();
    const double wait = std::chrono::duration<double>(retryAt - std::chrono::steady_clock::now()).count();
    if (backoff > 0.0 && wait > 0.0) {  // fail fast: the watchdog holds the robot meanwhile
      char text[48];
      std::snprintf(text, sizeof text, "; reconnecting in %.1f s", wait);
      error = lastFailure + text;
      return;
    }
    if (attempted) ++reconnects;
    attempted = true;
    socket = new QWebSocket;
    socket->setMaxAllowedIncomingMessageSize(openpi::kMaxReplyBytes);  // larger is refused
    if (options.acceptAnyCertificate)
      QObject::connect(socket, &QWebSocket::sslErrors, socket,
                       [s = socket](const QList<QSslError>&) { s->ignoreSslErrors(); });
    QNetworkRequest request(QUrl(QString::fromStdString(options.url)));
    if (!options.apiKey.empty())
      request.setRawHeader("Authorization",
                           QByteArray("Api-Key ") + QByteArray::fromStdString(options.apiKey));
    socket->open(request);
    std::string failure;
    std::optional<QByteArray> metadataFrame = nextBinaryFrame(options.connectTimeout, failure);
    if (!metadataFrame) {
      error = "cannot connect to " + shown + ": " + scrub(failure);
      noteFailure(error);
      dropSocket();
      return;
    }
    try {
      std::string text = openpi::describeMetadata(metadataFrame->toStdString());
      std::lock_guard lock(mutex);
      metadata = text;
    } catch (const PolicyError& e) {
      error = shown + ": " + e.what();
      noteFailure(error);
      dropSocket();
    }
  }

  // One request, one reply; any failure drops the socket so that the next request reconnects.
  std::optional<std::string> exchange(const std::string& request, std::string& error) {
    std::optional<std::string> reply;
    if (cancelled) {
      error = shown + ": cancelled";
      return reply;
    }
    const bool ran = runOnThread([&] {
      connectOnThread(error);
      if (!error.empty()) return;
      std::string failure;
      auto frame = nextBinaryFrame(options.replyTimeout, failure, true, QByteArray::fromStdString(request));
      if (frame) {
        reply = frame->toStdString();
        backoff = 0.0;
      } else {
        error = shown + ": " + scrub(failure);
        if (!cancelled) noteFailure(error);
        dropSocket();
      }
    });
    if (!ran) error = shown + ": " + kNotRun;
    return reply;
  }
};

OpenPiPolicy::OpenPiPolicy(OpenPiOptions options, PolicyRigSpec rig)
    : options_(std::move(options)), rig_(std::move(rig)) {
  if (!options_.url.starts_with("ws://") && !options_.url.starts_with("wss://"))
    throw PolicyError("a policy server address must start with ws:// or wss://, got '" +
                      redactAddress(options_.url) + "'");
  connection_ = std::make_unique<Connection>(options_);
}

OpenPiPolicy::~OpenPiPolicy() = default;

void OpenPiPolicy::connect() {
  std::string error;
  if (!connection_->runOnThread([&] { connection_->connectOnThread(error); }))
    error = connection_->shown + ": " + kNotRun;
  if (!error.empty()) throw PolicyError(error);
}

void OpenPiPolicy::cancel() {
  connection_->cancelled = true;
  // Queued: it runs inside the wait of the request in flight, whose socket error ends that wait.
  QMetaObject::invokeMethod(
      connection_->context,
      [connection = connection_.get()] {
        if (connection->socket) connection->socket->abort();
      },
      Qt::QueuedConnection);
}

std::string OpenPiPolicy::describe() const {
  return connection_->shown;
}

std::uint64_t OpenPiPolicy::reconnects() const {
  return connection_->reconnects;
}

std::string OpenPiPolicy::serverMetadata() const {
  std::lock_guard lock(connection_->mutex);
  return connection_->metadata;
}

std::string OpenPiPolicy::encode(const Observation& observation, const std::string& prompt) const {
  std::vector<openpi::CameraImage> images;
  for (std::size_t c = 0; c < rig_.cameras.size(); ++c) {
    const Image empty;
    const Image& image = c < observation.frames.size() ? observation.frames[c].image : empty;
    images.push_back({rig_.cameras[c], resizeWithPadChw(image, options_.imageSize, options_.imageSize),
                      options_.imageSize, options_.imageSize});
  }
  return openpi::encodeObservation(observation.state.position, images, prompt);
}

PolicyOutput OpenPiPolicy::infer(const Observation& observation, const std::string& prompt) {
  PolicyOutput output;
  const auto start = std::chrono::steady_clock::now();
  const std::string request = encode(observation, prompt);
  output.timing.preprocess = secondsSince(start);
  const auto sent = std::chrono::steady_clock::now();
  std::string error;
  std::optional<std::string> reply = connection_->exchange(request, error);
  if (!reply) throw PolicyError(error);
  const double roundTrip = secondsSince(sent);
  const auto received = std::chrono::steady_clock::now();
  openpi::Reply decoded;
  try {
    decoded = openpi::decodeReply(*reply);
  } catch (const PolicyError& e) {
    throw PolicyError(describe() + ": " + e.what());
  }
  output.actions = std::move(decoded.actions);
  output.timing.postprocess = secondsSince(received);
  output.timing.forward = decoded.serverInferMs >= 0 ? decoded.serverInferMs / 1000.0 : 0.0;
  output.timing.network = std::max(0.0, roundTrip - output.timing.forward);
  output.timing.total = secondsSince(start);
  return output;
}

}  // namespace flywheel
