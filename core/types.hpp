// Plain value types shared by every layer: joint states, camera frames, observations, actions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace flywheel {

using JointVector = std::vector<double>;

// One arm's (or a concatenation of arms') joint state. Joints in radians, grippers normalised 0..1.
struct JointState {
  JointVector position;
  JointVector velocity;
  JointVector effort;

  static JointState zeros(std::size_t joints) {
    return {JointVector(joints, 0.0), JointVector(joints, 0.0), JointVector(joints, 0.0)};
  }
  std::size_t size() const { return position.size(); }
};

// An 8-bit RGB image, row-major HxWx3. Pixels are shared and immutable so a frame can travel from a
// camera thread to the screen and to the writer without copies.
struct Image {
  int width = 0;
  int height = 0;
  std::shared_ptr<const std::uint8_t[]> pixels;

  std::size_t byteSize() const { return static_cast<std::size_t>(width) * height * 3; }
  bool empty() const { return !pixels || width == 0 || height == 0; }
};

struct CameraFrame {
  Image image;
  double captureTime = 0.0;    // seconds on the rig clock, measured when the frame was captured
  std::uint64_t sequence = 0;  // increments per captured frame; equal sequence means a repeated frame
};

// Policy runs: what produced the executed action of a tick (recorded as /policy_source, these values).
// None: the followers held (no action); Human: a takeover (or its hand-back blend) had control.
enum class PolicySource : std::uint8_t { None = 0, Main = 1, Fallback = 2, Human = 3 };
const char* nameOf(PolicySource source);

// What the recorder receives for each recorded tick.
struct Observation {
  std::uint64_t tick = 0;
  double time = 0.0;                // measured tick start, seconds on the rig clock
  JointState state;                 // all followers, concatenated in rig order
  JointVector action;               // commanded follower goals after safety, concatenated
  std::vector<CameraFrame> frames;  // one per camera, in rig order
  std::string cameraError;          // the first camera that stopped, and why
  bool intervention = false;        // policy runs: a human had (some) control of the followers this tick
  JointVector policyAction;         // policy runs: the policy's own proposal this tick; empty when none
  PolicySource policySource = PolicySource::None;  // policy runs: who produced `action`
};

// H future actions of J joints each, row-major [H, J].
struct ActionChunk {
  int horizon = 0;
  int joints = 0;
  std::vector<double> values;

  JointVector step(int index) const {
    return JointVector(values.begin() + index * joints, values.begin() + (index + 1) * joints);
  }
};

}  // namespace flywheel
