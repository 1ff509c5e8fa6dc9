// Bundled policies, named like bundled rigs (`--policy sim-pick-place`): a name with no path separator, no
// .pt/.pth suffix and no "://" is resources/policies/<name>.pt. The models are a few MB, so they are not
// compiled in but found on a search path that works from the build tree and after `cmake --install`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace flywheel {

// The folders searched, in order, those that exist only: each folder of $FLYWHEEL_POLICIES (':'-separated),
// <folder of the executable>/../share/flywheel/policies (installed), then the source tree's
// resources/policies (the build tree).
std::vector<std::filesystem::path> policySearchPath();

// Every bundled policy's name (its file name without .pt), sorted, each once.
std::vector<std::string> bundledPolicyNames();

// Whether `policy` is written as a bundled name rather than a file or a server address.
bool isBundledPolicyName(const std::string& policy);

// The file of the bundled policy `name` (the first on the search path); none when it is not bundled.
std::optional<std::filesystem::path> findBundledPolicy(const std::string& name);
// The same, or a PolicyError naming the bundled policies when there is none by that name.
std::filesystem::path bundledPolicyPath(const std::string& name);

// What a user typed as --policy, made loadable: a bundled name becomes its file, anything else (a .pt path,
// a ws:// address) is returned as it is. A name that is not bundled but is a file in the current folder is
// that file, as before bundled names existed. Throws PolicyError as bundledPolicyPath does.
std::string resolvePolicy(const std::string& policy);

}  // namespace flywheel
