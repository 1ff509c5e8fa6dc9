#include "app/bundled_policies.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>

#include "policy/policy.hpp"

namespace flywheel {

namespace fs = std::filesystem;

namespace {

fs::path executableFolder() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : self.parent_path();
}

bool isFolder(const fs::path& path) {
  std::error_code error;
  return !path.empty() && fs::is_directory(path, error);
}

}  // namespace

std::vector<fs::path> policySearchPath() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("FLYWHEEL_POLICIES"); env && *env) {
    const std::string list = env;
    for (std::size_t start = 0; start <= list.size();) {
      const std::size_t colon = std::min(list.find(':', start), list.size());
      if (colon > start) candidates.emplace_back(list.substr(start, colon - start));
      start = colon + 1;
    }
  }
  if (fs::path exe = executableFolder(); !exe.empty())
    candidates.push_back(exe.parent_path() / "share" / "flywheel" / "policies");
  candidates.emplace_back(FLYWHEEL_SOURCE_POLICIES);
  std::vector<fs::path> folders;
  for (const fs::path& folder : candidates)
    if (isFolder(folder)) folders.push_back(folder);
  return folders;
}

std::vector<std::string> bundledPolicyNames() {
  std::set<std::string> names;
  for (const fs::path& folder : policySearchPath()) {
    std::error_code error;
    for (const fs::directory_entry& entry : fs::directory_iterator(folder, error))
      if (entry.path().extension() == ".pt" && entry.is_regular_file(error))
        names.insert(entry.path().stem().string());
  }
  return {names.begin(), names.end()};
}

bool isBundledPolicyName(const std::string& policy) {
  const fs::path path(policy);
  return !policy.empty() && policy.find('/') == std::string::npos &&
         policy.find("://") == std::string::npos && path.extension() != ".pt" && path.extension() != ".pth" &&
         policy != "." && policy != "..";
}

std::optional<fs::path> findBundledPolicy(const std::string& name) {
  if (!isBundledPolicyName(name)) return std::nullopt;
  for (const fs::path& folder : policySearchPath()) {
    std::error_code error;
    if (fs::path file = folder / (name + ".pt"); fs::is_regular_file(file, error)) return file;
  }
  return std::nullopt;
}

fs::path bundledPolicyPath(const std::string& name) {
  if (std::optional<fs::path> file = findBundledPolicy(name)) return *file;
  std::string known;
  for (const std::string& bundled : bundledPolicyNames())
    known += (known.empty() ? "" : ", ") + bundled;
  throw PolicyError("no bundled policy named '" + name + "'; bundled: " + (known.empty() ? "none" : known) +
                    " (or give a MODEL.pt file or a ws:// address)");
}

std::string resolvePolicy(const std::string& policy) {
  if (!isBundledPolicyName(policy)) return policy;
  if (std::optional<fs::path> file = findBundledPolicy(policy)) return file->string();
  std::error_code error;
  if (fs::is_regular_file(policy, error)) return policy;
  return bundledPolicyPath(policy).string();
}

}  // namespace flywheel
