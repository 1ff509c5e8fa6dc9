// openpi's wire format: msgpack where numpy arrays travel as maps whose keys are msgpack bin —
// {b"__ndarray__": True, b"data": raw bytes, b"dtype": "<f4", b"shape": [..]}
// (openpi_client/msgpack_numpy.py). Pure functions, so the format is tested without a socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/types.hpp"

namespace flywheel::openpi {

struct CameraImage {
  std::string name;               // the key under "images", e.g. cam_high
  std::vector<std::uint8_t> chw;  // [3, height, width] uint8
  int height = 0;
  int width = 0;
};

// The observation openpi's ALOHA policy takes: "state" (float32 [J]), "images" {name: uint8 [3, H, W]},
// "prompt".
std::string encodeObservation(const JointVector& state, const std::vector<CameraImage>& images,
                              const std::string& prompt);

struct Reply {
  ActionChunk actions;          // "actions" [H, A], float32 or float64 on the wire
  double serverInferMs = -1.0;  // server_timing.infer_ms, or policy_timing.infer_ms; -1 when absent
};

// The largest reply accepted, by the socket and by the decoder alike (a 50x14 chunk takes a few KiB).
constexpr std::size_t kMaxReplyBytes = 256u << 20;

// Throws PolicyError naming what is wrong with the reply.
Reply decodeReply(const std::string& bytes);

// The metadata the server sends first, as one line of text (keys and scalar values).
std::string describeMetadata(const std::string& bytes);

}  // namespace flywheel::openpi
