// Camera frames for the training set at the training resolution, letterboxed as the policy runtime does
// (policy/image_prep). Frames are decoded on demand from the episode files; a bounded pool keeps a few
// files open (least recently used closed first) and a cache keeps decoded frames until it holds
// cacheBytes, after which new frames are decoded each time they are asked for. A tick that recorded the
// same frame as the tick before (a camera slower than the loop) is read, and cached, once. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace flywheel {

class EpisodeReader;

class FrameSource {
 public:
  using Frame = std::shared_ptr<const std::vector<std::uint8_t>>;  // [3, height, width] RGB
  // [episode][camera][tick]: the tick whose frame this tick recorded again; empty: each tick its own.
  using RepeatMap = std::vector<std::vector<std::vector<std::uint32_t>>>;

  FrameSource(std::vector<std::string> paths, std::vector<std::string> cameras, RepeatMap repeats, int height,
              int width, std::size_t cacheBytes, std::size_t maxOpenFiles = 16);
  ~FrameSource();

  struct Request {
    std::uint32_t episode = 0, camera = 0, tick = 0;  // indices into paths and cameras
    std::uint8_t* out = nullptr;                      // frameBytes() bytes
  };
  // Copies each requested frame to its `out`: cached frames at once, the others decoded on up to
  // `threads` threads (the caller's among them). Throws TrainingError naming the file when one cannot be
  // read.
  void gather(const std::vector<Request>& requests, int threads) const;
  Frame frame(std::uint32_t episode, std::uint32_t camera, std::uint32_t tick) const;
  std::size_t bytesUsed() const;
  std::size_t frameBytes() const { return 3 * static_cast<std::size_t>(height_) * width_; }

 private:
  std::uint64_t keyOf(std::uint32_t episode, std::uint32_t camera, std::uint32_t tick) const;
  Frame cached(std::uint64_t key) const;
  std::shared_ptr<EpisodeReader> reader(std::uint32_t episode) const;
  Frame decode(std::uint32_t episode, std::uint32_t camera, std::uint32_t tick) const;

  std::vector<std::string> paths_, cameras_;
  RepeatMap repeats_;
  int height_, width_;
  std::size_t cacheBytes_, maxOpenFiles_;

  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::uint64_t, Frame> cache_;
  mutable std::size_t bytesUsed_ = 0;

  mutable std::mutex poolMutex_;
  mutable std::list<std::pair<std::uint32_t, std::shared_ptr<EpisodeReader>>> open_;  // most recent first
};

}  // namespace flywheel
