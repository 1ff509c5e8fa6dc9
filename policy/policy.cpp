#include "policy/policy.hpp"

#include <algorithm>
#include <cmath>

namespace flywheel {

PolicyRigSpec PolicyRigSpec::of(const RigConfig& rig) {
  PolicyRigSpec spec;
  spec.joints = rig.followerJointCount();
  for (const CameraConfig& camera : rig.cameras)
    spec.cameras.push_back(camera.name);
  spec.fps = rig.recordRateHz;
  return spec;
}

std::string redactAddress(const std::string& address) {
  const std::size_t scheme = address.find("://");
  if (scheme == std::string::npos) return address;
  const std::size_t hostStart = scheme + 3;
  const std::size_t hostEnd = std::min(address.find_first_of("/?#", hostStart), address.size());
  std::string out = address.substr(0, hostStart);
  const std::string authority = address.substr(hostStart, hostEnd - hostStart);
  const std::size_t at = authority.rfind('@');
  out += at == std::string::npos ? authority : "***" + authority.substr(at);
  const std::size_t queryStart = std::min(address.find_first_of("?#", hostEnd), address.size());
  out += address.substr(hostEnd, queryStart - hostEnd);  // the path
  if (queryStart < address.size() && address[queryStart] == '?') {
    const std::size_t queryEnd = std::min(address.find('#', queryStart), address.size());
    out += '?';
    std::size_t begin = queryStart + 1;
    while (begin <= queryEnd) {
      const std::size_t end = std::min(address.find('&', begin), queryEnd);
      const std::string parameter = address.substr(begin, end - begin);
      const std::size_t equals = parameter.find('=');
      if (!parameter.empty())
        out += equals == std::string::npos ? "***" : parameter.substr(0, equals) + "=***";
      if (end < queryEnd) out += '&';
      begin = end + 1;
    }
  }
  if (address.find('#', hostEnd) != std::string::npos) out += "#***";
  return out;
}

std::string chunkProblem(const ActionChunk& chunk, std::size_t joints) {
  if (chunk.horizon < 1) return "an empty action chunk";
  if (static_cast<std::size_t>(chunk.joints) != joints)
    return "actions of " + std::to_string(chunk.joints) + " joints for a rig of " + std::to_string(joints);
  if (chunk.values.size() != static_cast<std::size_t>(chunk.horizon) * joints)
    return "a chunk of " + std::to_string(chunk.values.size()) + " values is not [" +
           std::to_string(chunk.horizon) + ", " + std::to_string(joints) + "]";
  auto bad =
      std::find_if(chunk.values.begin(), chunk.values.end(), [](double v) { return !std::isfinite(v); });
  if (bad != chunk.values.end()) {
    auto index = static_cast<std::size_t>(bad - chunk.values.begin());
    return std::string(std::isnan(*bad) ? "NaN" : "infinity") + " at step " + std::to_string(index / joints) +
           ", joint " + std::to_string(index % joints);
  }
  return {};
}

ReplayPolicy::ReplayPolicy(std::vector<double> actions, std::size_t joints, int horizon)
    : actions_(std::move(actions)), joints_(joints), horizon_(horizon) {
  if (joints_ == 0 || actions_.size() % joints_ != 0) throw PolicyError("replay: actions are not [T, J]");
  if (horizon_ < 1) throw PolicyError("replay: the chunk horizon must be at least 1");
}

std::string ReplayPolicy::describe() const {
  return "replay of " + std::to_string(length()) + " recorded actions";
}

// Returns the next `horizon` recorded actions; past the end, an empty chunk (refused: the loop holds).
PolicyOutput ReplayPolicy::infer(const Observation&, const std::string&) {
  PolicyOutput output;
  ActionChunk& chunk = output.actions;
  chunk.joints = static_cast<int>(joints_);
  std::size_t available = length() > cursor_ ? length() - cursor_ : 0;
  chunk.horizon = static_cast<int>(std::min<std::size_t>(available, static_cast<std::size_t>(horizon_)));
  auto first = actions_.begin() + static_cast<long>(cursor_ * joints_);
  chunk.values.assign(first, first + static_cast<long>(chunk.horizon * joints_));
  cursor_ += static_cast<std::size_t>(chunk.horizon);
  return output;
}

}  // namespace flywheel
