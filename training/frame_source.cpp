#include "training/frame_source.hpp"

#include <hdf5.h>

#include <atomic>
#include <cstring>
#include <exception>
#include <thread>

#include "policy/image_prep.hpp"
#include "recorder/episode_reader.hpp"
#include "training/training_set.hpp"

namespace flywheel {

namespace {

// HDF5 built thread-safe serialises its own calls (and a JPEG frame decodes outside its lock, so loader
// threads decode in parallel); otherwise every HDF5 call here goes through one lock.
#if defined(H5_HAVE_THREADSAFE) && H5_HAVE_THREADSAFE
struct Hdf5Lock {};
#else
std::recursive_mutex hdf5Mutex;
struct Hdf5Lock {
  std::lock_guard<std::recursive_mutex> lock{hdf5Mutex};
};
#endif

// A thread-safe HDF5 keeps an error stack (and its printing switch) per thread: a loader thread would
// print HDF5's traces of a damaged frame to stderr before our exception says the same.
void quietHdf5OnThisThread() {
  thread_local bool quiet = false;
  if (quiet) return;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  quiet = true;
}

}  // namespace

FrameSource::FrameSource(std::vector<std::string> paths, std::vector<std::string> cameras, RepeatMap repeats,
                         int height, int width, std::size_t cacheBytes, std::size_t maxOpenFiles)
    : paths_(std::move(paths)),
      cameras_(std::move(cameras)),
      repeats_(std::move(repeats)),
      height_(height),
      width_(width),
      cacheBytes_(cacheBytes),
      maxOpenFiles_(std::max<std::size_t>(1, maxOpenFiles)) {}

FrameSource::~FrameSource() {
  [[maybe_unused]] Hdf5Lock lock;
  open_.clear();
}

std::size_t FrameSource::bytesUsed() const {
  std::lock_guard lock(cacheMutex_);
  return bytesUsed_;
}

std::shared_ptr<EpisodeReader> FrameSource::reader(std::uint32_t episode) const {
  std::lock_guard lock(poolMutex_);
  for (auto it = open_.begin(); it != open_.end(); ++it) {
    if (it->first != episode) continue;
    open_.splice(open_.begin(), open_, it);
    return open_.front().second;
  }
  [[maybe_unused]] Hdf5Lock hdf5;
  std::shared_ptr<EpisodeReader> opened;
  try {
    opened = std::make_shared<EpisodeReader>(paths_[episode]);
  } catch (const std::exception& e) {
    throw TrainingError(std::string(e.what()) + " (while reading frames for training)");
  }
  open_.emplace_front(episode, opened);
  // A reader still in use elsewhere closes its file when that thread lets it go.
  if (open_.size() > maxOpenFiles_) open_.pop_back();
  return opened;
}

FrameSource::Frame FrameSource::decode(std::uint32_t episode, std::uint32_t camera,
                                       std::uint32_t tick) const {
  quietHdf5OnThisThread();
  std::shared_ptr<EpisodeReader> file = reader(episode);
  Image image;
  try {
    [[maybe_unused]] Hdf5Lock hdf5;
    image = file->readFrame(cameras_[camera], tick);
  } catch (const std::exception& e) {
    throw TrainingError(e.what());
  }
  {
    // The last owner of an evicted reader may be this thread: close its file under the HDF5 lock.
    [[maybe_unused]] Hdf5Lock hdf5;
    file.reset();
  }
  return std::make_shared<const std::vector<std::uint8_t>>(resizeWithPadChw(image, height_, width_));
}

// The cache key of a frame, after following a repeated frame back to the tick that recorded it first.
std::uint64_t FrameSource::keyOf(std::uint32_t episode, std::uint32_t camera, std::uint32_t tick) const {
  if (episode >= paths_.size() || camera >= cameras_.size())
    throw TrainingError("frame of episode " + std::to_string(episode) + ", camera " + std::to_string(camera) +
                        ": no such episode or camera");
  if (episode < repeats_.size() && camera < repeats_[episode].size() &&
      tick < repeats_[episode][camera].size())
    tick = repeats_[episode][camera][tick];
  return (static_cast<std::uint64_t>(episode) << 40) | (static_cast<std::uint64_t>(camera) << 32) | tick;
}

FrameSource::Frame FrameSource::cached(std::uint64_t key) const {
  std::lock_guard lock(cacheMutex_);
  auto found = cache_.find(key);
  return found == cache_.end() ? nullptr : found->second;
}

FrameSource::Frame FrameSource::frame(std::uint32_t episode, std::uint32_t camera, std::uint32_t tick) const {
  const std::uint64_t key = keyOf(episode, camera, tick);
  if (Frame hit = cached(key)) return hit;
  Frame decoded = decode(episode, camera, static_cast<std::uint32_t>(key & 0xffffffffu));
  std::lock_guard lock(cacheMutex_);
  if (bytesUsed_ + frameBytes() <= cacheBytes_ && cache_.emplace(key, decoded).second)
    bytesUsed_ += frameBytes();
  return decoded;
}

void FrameSource::gather(const std::vector<Request>& requests, int threads) const {
  std::vector<const Request*> misses;
  for (const Request& r : requests) {
    if (Frame hit = cached(keyOf(r.episode, r.camera, r.tick)))
      std::memcpy(r.out, hit->data(), frameBytes());
    else
      misses.push_back(&r);
  }
  std::atomic<std::size_t> next = 0;
  std::exception_ptr failure;
  std::mutex failureMutex;
  auto work = [&] {
    try {
      for (std::size_t i = next++; i < misses.size(); i = next++) {
        const Request& r = *misses[i];
        std::memcpy(r.out, frame(r.episode, r.camera, r.tick)->data(), frameBytes());
      }
    } catch (...) {
      std::lock_guard lock(failureMutex);
      if (!failure) failure = std::current_exception();
      next = misses.size();
    }
  };
  // A decode costs milliseconds, a thread tens of microseconds: a helper for every few misses pays.
  const std::size_t helpers = std::min<std::size_t>(std::max(threads, 1) - 1, misses.size() / 4);
  std::vector<std::thread> pool;
  for (std::size_t i = 0; i < helpers; ++i)
    pool.emplace_back(work);
  work();
  for (std::thread& t : pool)
    t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace flywheel
