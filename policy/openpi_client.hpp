// A remote policy served with openpi's websocket protocol (scripts/serve_policy.py): a real pi0 / pi0.5 on
// a GPU machine drives the rig. On connect the server sends its metadata; then one binary frame per
// request and one per reply; a text frame is the server's error (it closes the connection after it).
// After a failure the client connects again on a later request, backing off (0.2 s doubling to 5 s, reset
// by a success; requests meanwhile fail at once), so a restarted server is picked up and a failing one is
// not flooded with connections. The address is shown only with its secrets redacted.
#pragma once

#include <memory>

#include "policy/openpi_wire.hpp"
#include "policy/policy.hpp"

namespace flywheel {

struct OpenPiOptions {
  std::string url;                    // ws://host:port or wss://host:port
  std::string apiKey;                 // sent as "Authorization: Api-Key <key>" when set
  double connectTimeout = 3.0;        // seconds
  double replyTimeout = 5.0;          // seconds
  bool acceptAnyCertificate = false;  // wss:// to a server with a self-signed certificate
  int imageSize = 224;                // frames are letterboxed to imageSize x imageSize, CHW uint8
};

class OpenPiPolicy final : public Policy {
 public:
  // Connects lazily. Runs its own Qt event loop on a thread of its own; in a process with no Qt application
  // object the clients share one they make (deleted with the last of them, on the thread that made the
  // first), so the process must not make its own while a client is alive.
  OpenPiPolicy(OpenPiOptions options, PolicyRigSpec rig);
  ~OpenPiPolicy() override;

  std::string describe() const override;  // the address, redacted
  PolicyOutput infer(const Observation& observation, const std::string& prompt) override;
  void cancel() override;
  // Connects now (and reads the metadata); throws PolicyError when the server cannot be reached.
  void connect();
  std::string serverMetadata() const override;  // empty before the first connection
  std::uint64_t reconnects() const override;    // connections tried after the first

  // The request as it goes on the wire (for the benchmark's payload sizes).
  std::string encode(const Observation& observation, const std::string& prompt) const;

 private:
  struct Connection;
  OpenPiOptions options_;
  PolicyRigSpec rig_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace flywheel
