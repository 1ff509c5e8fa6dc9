#include "app/cli/command_support.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/studio.hpp"
#include "core/utf8.hpp"

namespace flywheel::app {

namespace {
std::atomic<bool> interrupted{false};
std::atomic<int> interruptSignal{0};

void onInterrupt(int signal) {
  interruptSignal = signal;
  interrupted = true;
}
}  // namespace

void catchInterrupts() {
  // sigaction with SA_RESTART: the handler stays installed for every later signal, and system calls on
  // other threads resume instead of failing with EINTR.
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

const std::atomic<bool>& interruptRequested() {
  return interrupted;
}

int interruptExitCode(int otherwise) {
  return interrupted ? 128 + interruptSignal.load() : otherwise;
}

bool fastAllowed(const RigConfig& config, bool fast) {
  if (!fast || config.isSimulated()) return true;
  std::cerr << "flywheel: --fast needs a simulated rig; '" << config.name << "' drives hardware\n";
  return false;
}

bool supervisorAllowed(const RigConfig& config, const std::string& supervisor) {
  if (supervisor.empty() || config.isSimulated()) return true;
  std::cerr << "flywheel: --supervisor " << supervisor << " needs a simulated rig; '" << config.name
            << "' drives hardware, where a person supervises (take over with the leader arm or t)\n";
  return false;
}

bool labelTextIsUtf8(const LabelText& fields) {
  for (const auto& [option, value] : fields)
    if (std::string problem = utf8Problem(value); !problem.empty()) {
      std::cerr << "flywheel: " << option << ": " << problem
                << "; label text must be UTF-8. Nothing was created or changed.\n";
      return false;
    }
  return true;
}

namespace {
std::string systemError(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// write() until done, then fsync for regular files (fails with EIO/ENOSPC where the data did not land),
// then close (which can report a deferred error too).
std::string writeAllAndClose(int fd, const std::string& text, bool regular) {
  std::size_t done = 0;
  std::string problem;
  while (done < text.size() && problem.empty()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) problem = systemError("write");
    done += n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  if (problem.empty() && regular && ::fsync(fd) != 0) problem = systemError("flush to disk");
  if (::close(fd) != 0 && problem.empty()) problem = systemError("close");
  return problem;
}
}  // namespace

std::string writeWholeFile(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text << std::flush;
    return std::cout ? "" : "write to standard output failed";
  }
  struct stat existing {};
  const bool exists = ::stat(path.c_str(), &existing) == 0;
  if (exists && S_ISDIR(existing.st_mode)) return "is a directory";
  if (exists && !S_ISREG(existing.st_mode)) {  // a device or a pipe: written in place
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return systemError("open");
    return writeAllAndClose(fd, text, false);
  }
  namespace fs = std::filesystem;
  std::error_code ignored;
  const fs::path resolved = fs::weakly_canonical(path, ignored);  // through a symlink, not over it
  const fs::path target = resolved.empty() ? fs::path(path) : resolved;
  const fs::path temporary =
      target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::strerror(errno);  // no such folder, or not writable
  std::string problem = writeAllAndClose(fd, text, true);
  if (problem.empty() && ::rename(temporary.c_str(), target.c_str()) != 0) problem = systemError("rename");
  if (!problem.empty()) ::unlink(temporary.c_str());
  return problem;
}

void printBusCounters(Studio& studio) {
  for (const ArmHealth& arm : studio.rig().health().arms)
    if (arm.bus) std::cout << "  " << describeBus(arm) << "\n";
  if (auto failed = studio.loop().status().failedTicks)
    std::cout << "  " << failed << " ticks lost to bus errors\n";
}

}  // namespace flywheel::app
