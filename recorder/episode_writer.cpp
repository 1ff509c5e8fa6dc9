#include "recorder/episode_writer.hpp"

#include <limits>

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "recorder/h5.hpp"
#include "recorder/labels.hpp"

namespace flywheel {

namespace {

constexpr hsize_t kStateChunkRows = 256;
constexpr std::uint64_t kFlushBytes = 128ull << 20;  // also flush after this much data, whatever the clock

// An extendible [0, cols...] dataset chunked along time.
h5::Handle createExtendible(hid_t parent, const std::string& name, hid_t fileType,
                            std::vector<hsize_t> rowShape, hsize_t chunkRows, bool compress) {
  std::vector<hsize_t> dims{0}, maxDims{H5S_UNLIMITED}, chunk{chunkRows};
  for (hsize_t d : rowShape) {
    dims.push_back(d);
    maxDims.push_back(d);
    chunk.push_back(d);
  }
  h5::Handle space = h5::space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxDims.data()));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  if (compress) {  // joint data compresses well and losslessly; images stay raw as ALOHA stores them
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
  }
  return h5::dataset(
      h5::check(H5Dcreate2(parent, name.c_str(), fileType, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                "create dataset " + name));
}

// JPEG rows: [T, P] with P growing to the longest frame so far; unwritten bytes read as the zero padding.
h5::Handle createJpegRows(hid_t parent, const std::string& name) {
  hsize_t dims[2] = {0, 0}, maxDims[2] = {H5S_UNLIMITED, H5S_UNLIMITED}, chunk[2] = {1, 16384};
  h5::Handle space = h5::space(H5Screate_simple(2, dims, maxDims));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, 2, chunk);
  return h5::dataset(
      h5::check(H5Dcreate2(parent, name.c_str(), H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                "create dataset " + name));
}

h5::Handle createCompressLength(hid_t file, std::size_t cameras) {
  hsize_t dims[2] = {cameras, 0}, maxDims[2] = {cameras, H5S_UNLIMITED}, chunk[2] = {cameras, 256};
  h5::Handle space = h5::space(H5Screate_simple(2, dims, maxDims));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, 2, chunk);
  return h5::dataset(
      h5::check(H5Dcreate2(file, "compress_len", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                "create compress_len"));
}

// h5py's bool: an int8 enum of FALSE and TRUE, which numpy reads back as dtype bool.
h5::Handle boolType() {
  h5::Handle type = h5::type(H5Tenum_create(H5T_NATIVE_INT8));
  std::int8_t no = 0, yes = 1;
  H5Tenum_insert(type, "FALSE", &no);
  H5Tenum_insert(type, "TRUE", &yes);
  return type;
}

void appendFlags(hid_t dataset, hsize_t oldRows, const std::vector<std::int8_t>& flags) {
  hsize_t newDims[1] = {oldRows + flags.size()};
  h5::check(H5Dset_extent(dataset, newDims), "extend dataset");
  h5::Handle fileSpace = h5::space(H5Dget_space(dataset));
  hsize_t start[1] = {oldRows}, count[1] = {flags.size()};
  H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
  h5::Handle memSpace = h5::space(H5Screate_simple(1, count, nullptr));
  h5::check(H5Dwrite(dataset, boolType(), memSpace, fileSpace, H5P_DEFAULT, flags.data()), "write flags");
}

// Appends `rows` rows of doubles (row-major, `cols` each) to a [T, cols] or [T] dataset.
void appendRows(hid_t dataset, hsize_t oldRows, hsize_t rows, hsize_t cols, const double* values) {
  bool matrix = cols > 0;
  hsize_t newDims[2] = {oldRows + rows, cols};
  h5::check(H5Dset_extent(dataset, newDims), "extend dataset");
  h5::Handle fileSpace = h5::space(H5Dget_space(dataset));
  hsize_t start[2] = {oldRows, 0}, count[2] = {rows, cols};
  H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
  h5::Handle memSpace = h5::space(H5Screate_simple(matrix ? 2 : 1, count, nullptr));
  h5::check(H5Dwrite(dataset, H5T_NATIVE_DOUBLE, memSpace, fileSpace, H5P_DEFAULT, values), "write rows");
}

std::string isoTimeNow() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
  return text;
}

}  // namespace

struct EpisodeWriter::Datasets {
  h5::Handle file;
  h5::Handle qpos, qvel, effort, action, timestamp, intervention;
  h5::Handle policyAction;  // policy runs only
  std::vector<h5::Handle> images, imageTimestamps;
  h5::Handle compressLength;        // JPEG storage: [cameras, T] float32 lengths, as ALOHA writes them
  std::vector<hsize_t> paddedSize;  // JPEG storage: current row width per camera
  hsize_t rows = 0;
};

namespace {

// Crash safety comes from three file settings: freed space is never reused (so an older, flushed B-tree
// never points at bytes rewritten since), and the metadata cache keeps dirty entries in memory until
// the next flush (so the on-disk metadata is always the last flushed, consistent state).
h5::Handle crashSafeCreateProperties() {
  h5::Handle fcpl = h5::plist(H5Pcreate(H5P_FILE_CREATE));
  H5Pset_file_space_strategy(fcpl, H5F_FSPACE_STRATEGY_NONE, false, 1);
  return fcpl;
}

h5::Handle crashSafeAccessProperties() {
  h5::Handle fapl = h5::plist(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V110);
  H5AC_cache_config_t cache{};
  cache.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  H5Pget_mdc_config(fapl, &cache);
  cache.evictions_enabled = false;
  cache.incr_mode = H5C_incr__off;
  cache.flash_incr_mode = H5C_flash_incr__off;
  cache.decr_mode = H5C_decr__off;
  H5Pset_mdc_config(fapl, &cache);
  return fapl;
}

double monotonicSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

EpisodeWriter::EpisodeWriter(const std::string& path, EpisodeInfo info, WriterOptions options)
    : path_(path), info_(std::move(info)), options_(options), datasets_(std::make_unique<Datasets>()) {
  h5::quietErrors();
  if (std::filesystem::exists(path_))
    throw RecorderError(path_ + ": already exists; episodes are never overwritten");
  h5::Handle fcpl = crashSafeCreateProperties(), fapl = crashSafeAccessProperties();
  hid_t file = H5Fcreate(path_.c_str(), H5F_ACC_EXCL, fcpl, fapl);
  if (file < 0)
    throw RecorderError(
        describeFailure("cannot create the episode file (exists, or the folder is not writable)"));
  datasets_->file = h5::file(file);
  recording_ = RecordingMark(path_);
  try {
    createLayout();
    h5::check(H5Fflush(file, H5F_SCOPE_LOCAL), "flush the new file");
  } catch (const h5::Error& e) {
    throw RecorderError(path_ + ": " + e.what());
  }
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) >= 0 && handle)
    syncFd_ = ::dup(*static_cast<int*>(handle));
  lastSequence_.assign(info_.cameras.size(), 0);
  stats_.cameras.assign(info_.cameras.size(), {});
  lastFlush_ = monotonicSeconds();
  thread_ = std::thread([this] { threadMain(); });
  syncThread_ = std::thread([this] { syncMain(); });
}

std::string EpisodeWriter::describeFailure(const std::string& what) const {
  const int systemError = errno;
  std::string message = path_ + ": " + what;
  struct statvfs disk {};
  const std::string folder = std::filesystem::path(path_).parent_path().string();
  if (statvfs(folder.empty() ? "." : folder.c_str(), &disk) == 0) {
    const double freeMiB = static_cast<double>(disk.f_bavail) * disk.f_frsize / (1024.0 * 1024.0);
    if (freeMiB < 64.0)
      return message + " (disk full: " + std::to_string(static_cast<int>(freeMiB)) + " MiB free)";
  }
  if (systemError != 0) message += " (" + std::string(std::strerror(systemError)) + ")";
  return message;
}

EpisodeWriter::~EpisodeWriter() {
  try {
    finish(std::nullopt);
  } catch (...) {
  }
}

// The labels a take is saved with, before anyone edits them.
EpisodeLabels EpisodeWriter::recordedLabels(std::optional<bool> success) const {
  EpisodeLabels labels;
  labels.task = info_.task;
  labels.tags = info_.tags;
  labels.operatorName = info_.operatorName;
  labels.success = success;
  return labels;
}

void EpisodeWriter::createLayout() {
  hid_t file = datasets_->file;
  h5::writeBoolAttribute(file, "sim", info_.sim);
  h5::writeStringAttribute(file, "task", info_.task);
  h5::writeDoubleAttribute(file, "fps", info_.fps);
  h5::writeStringAttribute(file, "rig_name", info_.rigName);
  h5::writeStringAttribute(file, "rig_config", info_.rigConfigText);
  h5::writeStringAttribute(file, "software_version", std::string("flywheel ") + FLYWHEEL_VERSION);
  h5::writeStringAttribute(file, "start_time", isoTimeNow());
  h5::writeBoolAttribute(file, "complete", false);  // set true by finish(); false marks an interrupted take
  h5::writeStringAttribute(file, "operator", info_.operatorName);
  std::string tags;
  for (const std::string& tag : info_.tags)
    tags += (tags.empty() ? "" : ",") + tag;
  h5::writeStringAttribute(file, "tags", tags);
  const bool jpeg = info_.imageStorage == ImageStorage::Jpeg;
  h5::writeBoolAttribute(file, "compress", jpeg);
  createLabelSlots(file, recordedLabels(std::nullopt));

  const hsize_t joints = info_.joints;
  h5::Handle observations =
      h5::group(H5Gcreate2(file, "observations", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  datasets_->qpos = createExtendible(observations, "qpos", H5T_IEEE_F64LE, {joints}, kStateChunkRows, true);
  datasets_->qvel = createExtendible(observations, "qvel", H5T_IEEE_F64LE, {joints}, kStateChunkRows, true);
  datasets_->effort =
      createExtendible(observations, "effort", H5T_IEEE_F64LE, {joints}, kStateChunkRows, true);
  datasets_->action = createExtendible(file, "action", H5T_IEEE_F64LE, {joints}, kStateChunkRows, true);
  datasets_->timestamp = createExtendible(file, "timestamp", H5T_IEEE_F64LE, {}, kStateChunkRows, true);
  datasets_->intervention = createExtendible(file, "intervention", boolType(), {}, kStateChunkRows, true);
  if (!info_.policy.empty()) {
    h5::writeStringAttribute(file, "policy", info_.policy);
    datasets_->policyAction =
        createExtendible(file, "policy_action", H5T_IEEE_F64LE, {joints}, kStateChunkRows, true);
  }

  h5::Handle images = h5::group(H5Gcreate2(observations, "images", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  h5::Handle stamps =
      h5::group(H5Gcreate2(observations, "image_timestamps", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  for (const CameraSpec& cam : info_.cameras) {
    if (jpeg) {
      datasets_->images.push_back(createJpegRows(images, cam.name));
      datasets_->paddedSize.push_back(0);
    } else {
      std::vector<hsize_t> frame{static_cast<hsize_t>(cam.height), static_cast<hsize_t>(cam.width), 3};
      datasets_->images.push_back(createExtendible(images, cam.name, H5T_STD_U8LE, frame, 1, false));
    }
    datasets_->imageTimestamps.push_back(
        createExtendible(stamps, cam.name, H5T_IEEE_F64LE, {}, kStateChunkRows, true));
  }
  if (jpeg) datasets_->compressLength = createCompressLength(file, info_.cameras.size());
}

void EpisodeWriter::validate(const Observation& obs) const {
  if (obs.state.position.size() != info_.joints || obs.action.size() != info_.joints ||
      obs.frames.size() != info_.cameras.size())
    throw RecorderError(path_ + ": an observation of " + std::to_string(obs.state.position.size()) +
                        " joints, " + std::to_string(obs.action.size()) + " actions and " +
                        std::to_string(obs.frames.size()) + " frames does not fit the episode's " +
                        std::to_string(info_.joints) + " joints and " + std::to_string(info_.cameras.size()) +
                        " cameras");
  for (std::size_t c = 0; c < obs.frames.size(); ++c) {
    const Image& image = obs.frames[c].image;
    if (image.empty())
      throw RecorderError(path_ + ": camera '" + info_.cameras[c].name + "' delivered no frame");
    if (image.width != info_.cameras[c].width || image.height != info_.cameras[c].height)
      throw RecorderError(path_ + ": camera '" + info_.cameras[c].name + "' frame is " +
                          std::to_string(image.width) + "x" + std::to_string(image.height) +
                          ", the episode expects " + std::to_string(info_.cameras[c].width) + "x" +
                          std::to_string(info_.cameras[c].height));
  }
}

bool EpisodeWriter::push(const Observation& observation) {
  validate(observation);
  {
    std::lock_guard lock(mutex_);
    if (closing_) return false;
    if (queue_.size() >= options_.queueCapacity) {
      ++stats_.dropped;
      return false;
    }
    queue_.push_back(observation);
    stats_.queuePeak = std::max(stats_.queuePeak, queue_.size());
  }
  wakeWriter_.notify_one();
  return true;
}

void EpisodeWriter::pushBlocking(const Observation& observation) {
  validate(observation);
  {
    std::unique_lock lock(mutex_);
    roomAvailable_.wait(
        lock, [&] { return queue_.size() < options_.queueCapacity || closing_ || !error_.empty(); });
    if (closing_ || !error_.empty()) return;
    queue_.push_back(observation);
    stats_.queuePeak = std::max(stats_.queuePeak, queue_.size());
  }
  wakeWriter_.notify_one();
}

void EpisodeWriter::threadMain() {
  h5::quietErrors();  // HDF5 keeps its error printing per thread
  std::vector<Observation> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wakeWriter_.wait_for(lock, std::chrono::duration<double>(options_.flushInterval / 2),
                           [&] { return !queue_.empty() || closing_; });
      if (queue_.empty() && closing_) return;
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    roomAvailable_.notify_all();
    if (!error().empty()) continue;  // after an I/O error keep draining, write nothing more
    try {
      writeBatch(batch);
      const bool dueByTime = monotonicSeconds() - lastFlush_ >= options_.flushInterval;
      const bool dueByBytes = stats().bytes - bytesAtFlush_ >= kFlushBytes;  // faster-than-real-time runs
      if (dueByTime || dueByBytes) flushToDisk();
    } catch (const std::exception& e) {
      std::string message =
          describeFailure("write failed after " + std::to_string(stats_.written) + " ticks: " + e.what());
      freezeOnDisk();
      std::lock_guard lock(mutex_);
      error_ = message;
    }
    roomAvailable_.notify_all();
  }
}

// After a failed write the file on disk is the last flush: consistent. Closing it normally would write
// metadata describing the failed part on top, so from now on HDF5 writes into /dev/null instead.
void EpisodeWriter::freezeOnDisk() {
  void* handle = nullptr;
  if (H5Fget_vfd_handle(datasets_->file, H5P_DEFAULT, &handle) < 0 || !handle) return;
  int sink = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (sink < 0) return;
  ::dup2(sink, *static_cast<int*>(handle));
  ::close(sink);
}

// Makes the file consistent on disk (a kill -9 loses nothing before this point), then asks the sync
// thread to push it past the page cache (a power cut loses nothing before the sync completes).
void EpisodeWriter::flushToDisk() {
  errno = 0;
  h5::check(H5Fflush(datasets_->file, H5F_SCOPE_LOCAL), "flush");
  lastFlush_ = monotonicSeconds();
  {
    std::lock_guard lock(mutex_);
    ++stats_.flushes;
    bytesAtFlush_ = stats_.bytes;
  }
  {
    std::lock_guard lock(syncMutex_);
    syncRequested_ = true;
  }
  syncWake_.notify_one();
}

void EpisodeWriter::syncMain() {
  std::unique_lock lock(syncMutex_);
  while (true) {
    syncWake_.wait(lock, [&] { return syncRequested_ || syncStopping_; });
    if (syncStopping_ && !syncRequested_) return;
    syncRequested_ = false;
    lock.unlock();
    if (syncFd_ >= 0) ::fdatasync(syncFd_);
    lock.lock();
  }
}

void EpisodeWriter::countFrames(const std::vector<Observation>& batch) {
  std::lock_guard lock(mutex_);
  for (const Observation& obs : batch)
    for (std::size_t c = 0; c < obs.frames.size(); ++c) {
      const CameraFrame& frame = obs.frames[c];
      if (frame.sequence == lastSequence_[c]) ++stats_.cameras[c].repeatedFrames;
      lastSequence_[c] = frame.sequence;
      stats_.cameras[c].maxFrameAge = std::max(stats_.cameras[c].maxFrameAge, obs.time - frame.captureTime);
    }
}

// One extent change and one write per state dataset for the whole batch; images go frame by frame.
void EpisodeWriter::writeBatch(const std::vector<Observation>& batch) {
  if (batch.empty()) return;
  errno = 0;
  if (!haveFirstTime_) {
    firstTime_ = batch.front().time;
    haveFirstTime_ = true;
  }
  countFrames(batch);
  const hsize_t n = batch.size(), j = info_.joints, oldRows = datasets_->rows;
  std::vector<double> qpos, qvel, effort, action, stamps, proposed;
  std::vector<std::int8_t> intervention;
  qpos.reserve(n * j);
  for (const Observation& obs : batch) {
    intervention.push_back(obs.intervention ? 1 : 0);
    if (obs.policyAction.size() == j)
      proposed.insert(proposed.end(), obs.policyAction.begin(), obs.policyAction.end());
    else
      proposed.insert(proposed.end(), j, std::numeric_limits<double>::quiet_NaN());
    qpos.insert(qpos.end(), obs.state.position.begin(), obs.state.position.end());
    qvel.insert(qvel.end(), obs.state.velocity.begin(), obs.state.velocity.end());
    effort.insert(effort.end(), obs.state.effort.begin(), obs.state.effort.end());
    action.insert(action.end(), obs.action.begin(), obs.action.end());
    stamps.push_back(obs.time - firstTime_);
  }
  qvel.resize(n * j, 0.0);  // arms that report no velocity or effort record zeros
  effort.resize(n * j, 0.0);
  std::uint64_t bytes = n * j * 4 * sizeof(double) + n * sizeof(double);
  // Images first: should the disk fill up, the joint datasets do not run ahead of the frames.
  for (std::size_t c = 0; c < info_.cameras.size(); ++c)
    writeImages(c, batch, bytes);
  appendRows(datasets_->qpos, oldRows, n, j, qpos.data());
  appendRows(datasets_->qvel, oldRows, n, j, qvel.data());
  appendRows(datasets_->effort, oldRows, n, j, effort.data());
  appendRows(datasets_->action, oldRows, n, j, action.data());
  appendRows(datasets_->timestamp, oldRows, n, 0, stamps.data());
  appendFlags(datasets_->intervention, oldRows, intervention);
  if (datasets_->policyAction.valid()) appendRows(datasets_->policyAction, oldRows, n, j, proposed.data());
  datasets_->rows += n;
  std::lock_guard lock(mutex_);
  stats_.written += n;
  stats_.bytes += bytes;
}

void EpisodeWriter::writeImages(std::size_t c, const std::vector<Observation>& batch, std::uint64_t& bytes) {
  hid_t images = datasets_->images[c];
  const CameraSpec& cam = info_.cameras[c];
  const hsize_t n = batch.size(), oldRows = datasets_->rows;
  std::vector<double> captureTimes;
  for (const Observation& obs : batch)
    captureTimes.push_back(obs.frames[c].captureTime - firstTime_);

  if (info_.imageStorage == ImageStorage::Raw) {
    hsize_t dims[4] = {oldRows + n, static_cast<hsize_t>(cam.height), static_cast<hsize_t>(cam.width), 3};
    h5::check(H5Dset_extent(images, dims), "extend images " + cam.name);
    for (hsize_t i = 0; i < n; ++i) {
      const Image& image = batch[i].frames[c].image;
      hsize_t offset[4] = {oldRows + i, 0, 0, 0};  // straight to the file: no type conversion, no chunk cache
      h5::check(H5Dwrite_chunk(images, H5P_DEFAULT, 0, offset, image.byteSize(), image.pixels.get()),
                "write frame of " + cam.name);
      bytes += image.byteSize();
    }
  } else {
    // ALOHA encodes what it holds as if it were BGR and decodes it the same way: RGB survives the round trip.
    std::vector<std::vector<std::uint8_t>> encoded(n);
    std::vector<float> lengths(n);
    for (hsize_t i = 0; i < n; ++i) {
      const Image& image = batch[i].frames[c].image;
      cv::Mat view(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.get()));
      cv::imencode(".jpg", view, encoded[i], {cv::IMWRITE_JPEG_QUALITY, info_.jpegQuality});
      lengths[i] = static_cast<float>(encoded[i].size());
      datasets_->paddedSize[c] = std::max<hsize_t>(datasets_->paddedSize[c], encoded[i].size());
    }
    hsize_t dims[2] = {oldRows + n, datasets_->paddedSize[c]};
    h5::check(H5Dset_extent(images, dims), "extend images " + cam.name);
    for (hsize_t i = 0; i < n; ++i) {
      h5::Handle fileSpace = h5::space(H5Dget_space(images));
      hsize_t start[2] = {oldRows + i, 0}, count[2] = {1, encoded[i].size()};
      H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
      h5::Handle memSpace = h5::space(H5Screate_simple(2, count, nullptr));
      h5::check(H5Dwrite(images, H5T_NATIVE_UINT8, memSpace, fileSpace, H5P_DEFAULT, encoded[i].data()),
                "write JPEG frame of " + cam.name);
      bytes += encoded[i].size();
    }
    hid_t lengthsSet = datasets_->compressLength;
    hsize_t lengthDims[2] = {info_.cameras.size(), oldRows + n};
    h5::check(H5Dset_extent(lengthsSet, lengthDims), "extend compress_len");
    h5::Handle fileSpace = h5::space(H5Dget_space(lengthsSet));
    hsize_t start[2] = {c, oldRows}, count[2] = {1, n};
    H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
    h5::Handle memSpace = h5::space(H5Screate_simple(2, count, nullptr));
    h5::check(H5Dwrite(lengthsSet, H5T_NATIVE_FLOAT, memSpace, fileSpace, H5P_DEFAULT, lengths.data()),
              "write compress_len");
  }
  appendRows(datasets_->imageTimestamps[c], oldRows, n, 0, captureTimes.data());
}

void EpisodeWriter::finish(std::optional<bool> success, const std::string& stopReason) {
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    closing_ = true;
  }
  wakeWriter_.notify_all();
  roomAvailable_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::string failure = error();
  try {
    hid_t file = datasets_->file;
    if (failure.empty()) {
      WriterStats stats = this->stats();
      for (std::size_t c = 0; c < info_.cameras.size(); ++c) {
        h5::writeDoubleAttribute(datasets_->images[c], "repeated_frames",
                                 static_cast<double>(stats.cameras[c].repeatedFrames));
        h5::writeDoubleAttribute(datasets_->images[c], "max_frame_age_s", stats.cameras[c].maxFrameAge);
      }
      h5::writeDoubleAttribute(file, "duration_s", static_cast<double>(datasets_->rows) / info_.fps);
      if (success) h5::writeBoolAttribute(file, "success", *success);
      setRecordedLabels(file, recordedLabels(success));
      if (stopReason.empty())
        h5::writeBoolAttribute(file, "complete", true);
      else
        h5::writeStringAttribute(file, "stop_reason", stopReason);
    }
    datasets_.reset();  // closes every dataset, then the file
  } catch (const h5::Error& e) {
    datasets_.reset();
    failure = failure.empty() ? path_ + ": closing the episode failed: " + e.what() : failure;
  }
  recording_.release();  // the file is closed: no longer a take in progress
  {
    std::lock_guard lock(syncMutex_);
    syncRequested_ = true;  // one last sync of everything, then stop
    syncStopping_ = true;
  }
  syncWake_.notify_one();
  if (syncThread_.joinable()) syncThread_.join();
  if (syncFd_ >= 0) ::close(syncFd_);
  syncFd_ = -1;
  if (!failure.empty()) throw RecorderError(failure);
}

std::string EpisodeWriter::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

WriterStats EpisodeWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace flywheel
