// The openpi client in a process with no Qt application object: plain C++ (no QtTest main, no QProcess,
// which would want an event loop of the caller's) against the loopback openpi test server. It gets chunks,
// is cancelled, reconnects to a restarted server, and is destroyed without a hang; the process then exits
// cleanly; last, a caller's own application object is used as it is. An alarm turns a hang into a failure
// with a message instead of a ctest timeout.
#include <sys/wait.h>
#include <unistd.h>
#include <QCoreApplication>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "policy/openpi_client.hpp"

using namespace flywheel;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

void onAlarm(int) {
  const char text[] = "FAIL: hung (no answer within the test's 60 s)\n";
  (void)!::write(2, text, sizeof text - 1);
  ::_exit(3);
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// tests/policy/openpi_test_server.py in a child process, killed (SIGKILL) at the end.
struct Server {
  pid_t pid = -1;
  int port = 0;
  explicit Server(int fixedPort = 0, const char* delayMs = "0") {
    int out[2];
    if (::pipe(out) != 0) std::abort();
    const std::string script = FLYWHEEL_SOURCE_DIR "/tests/policy/openpi_test_server.py";
    const std::string portText = std::to_string(fixedPort);
    pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execl("/usr/bin/python3", "python3", script.c_str(), "--port", portText.c_str(), "--horizon", "5",
              "--delay-ms", delayMs, static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n')
      line += c;
    ::close(out[0]);
    if (!line.starts_with("listening on ")) {
      std::fprintf(stderr, "the test server did not start: '%s'\n", line.c_str());
      std::exit(2);
    }
    port = std::stoi(line.substr(13));
  }
  ~Server() { kill(); }
  void kill() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port); }
};

Observation observation(const JointVector& state) {
  Observation o;
  o.state = JointState::zeros(state.size());
  o.state.position = state;
  return o;  // no frames: the client sends black 224 x 224 images
}

const PolicyRigSpec kRig{3, {"top"}, 50.0};

OpenPiOptions at(const std::string& url) {
  OpenPiOptions options;
  options.url = url;
  return options;
}

// One request: the server answers state + 0.01 * step for steps 1..5.
std::string chunkProblemOf(OpenPiPolicy& policy) {
  try {
    const PolicyOutput out = policy.infer(observation({0.5, -0.25, 1.0}), "wave");
    if (out.actions.horizon != 5 || out.actions.joints != 3) return "wrong shape";
    const double last = out.actions.step(4)[1];
    return std::abs(last - (-0.25 + 0.05)) < 1e-5 ? "" : "wrong values";
  } catch (const PolicyError& e) {
    return *e.what() ? e.what() : "an error with no message";  // Qt dropped the request unrun
  }
}

void answersAndReconnects() {
  auto server = std::make_unique<Server>();
  OpenPiPolicy policy(at(server->url()), kRig);
  const std::string problem = chunkProblemOf(policy);
  check(problem.empty(), "a chunk from the server: " + (problem.empty() ? "as expected" : problem));
  check(policy.serverMetadata().find("server=flywheel-test") != std::string::npos,
        "metadata: " + policy.serverMetadata());
  const int port = server->port;
  server->kill();
  check(!chunkProblemOf(policy).empty(), "a request to a killed server fails");
  server = std::make_unique<Server>(port);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // past the first backoff (0.2 s)
  check(chunkProblemOf(policy).empty(), "a chunk from the restarted server");
  check(policy.reconnects() >= 1, "reconnects counted: " + std::to_string(policy.reconnects()));
  const auto start = std::chrono::steady_clock::now();
  {
    OpenPiPolicy other(at(server->url()), kRig);  // a second client alive at the same time
    check(chunkProblemOf(other).empty(), "a second client beside the first");
  }
  check(secondsSince(start) < 3.0, "the second client is destroyed at once");
}

void cancelEndsARequestInFlight() {
  Server server(0, "20000");
  auto policy = std::make_unique<OpenPiPolicy>(at(server.url()), kRig);
  policy->connect();
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  std::thread caller([&] { error = chunkProblemOf(*policy); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  policy->cancel();
  caller.join();
  check(error.starts_with(server.url() + ": ") && secondsSince(start) < 3.0,
        "cancel ends the request in flight: " + error);
  const auto destroying = std::chrono::steady_clock::now();
  policy.reset();
  check(secondsSince(destroying) < 3.0, "destroyed at once after a cancel");
}

// The GUI's and the CLI's case: the caller's application object is the one used, and it outlives the client.
void callersApplicationIsUsed() {
  static int argc = 1;
  static char name[] = "caller";
  static char* argv[] = {name, nullptr};
  QCoreApplication application(argc, argv);
  Server server;
  {
    OpenPiPolicy policy(at(server.url()), kRig);
    check(chunkProblemOf(policy).empty(), "a chunk with the caller's application object");
    check(QCoreApplication::instance() == &application, "no second application object");
  }
  check(QCoreApplication::instance() == &application, "the caller's application object stays");
}

}  // namespace

int main() {
  std::signal(SIGALRM, onAlarm);
  ::alarm(60);
  check(QCoreApplication::instance() == nullptr, "no Qt application object in the process");
  { OpenPiPolicy never(at("ws://127.0.0.1:9"), kRig); }  // made and destroyed, never connected
  answersAndReconnects();
  cancelEndsARequestInFlight();
  check(QCoreApplication::instance() == nullptr, "the client left no Qt application object behind");
  callersApplicationIsUsed();
  std::printf("%s\n", failures ? "FAILED" : "PASSED");
  return failures ? 1 : 0;
}
