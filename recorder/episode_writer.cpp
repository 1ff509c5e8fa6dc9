#include "recorder/episode_writer.hpp"

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "recorder/h5.hpp"

namespace flywheel {

namespace {

constexpr hsize_t kStateChunkRows = 256;

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
  h5::Handle qpos, qvel, effort, action, timestamp;
  std::vector<h5::Handle> images, imageTimestamps;
  hsize_t rows = 0;
};

EpisodeWriter::EpisodeWriter(const std::string& path, EpisodeInfo info, std::size_t queueCapacity)
    : path_(path), info_(std::move(info)), capacity_(queueCapacity), datasets_(std::make_unique<Datasets>()) {
  h5::quietErrors();
  if (std::filesystem::exists(path_))
    throw RecorderError(path_ + ": already exists; episodes are never overwritten");
  hid_t file = H5Fcreate(path_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0)
    throw RecorderError(path_ + ": cannot create the episode file (exists, or the folder is not writable)");
  datasets_->file = h5::file(file);
  try {
    createLayout();
  } catch (const h5::Error& e) {
    throw RecorderError(path_ + ": " + e.what());
  }
  thread_ = std::thread([this] { threadMain(); });
}

EpisodeWriter::~EpisodeWriter() {
  try {
    finish(std::nullopt);
  } catch (...) {
  }
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

  const hsize_t joints = info_.joints;
  h5::Handle observations =
      h5::group(H5Gcreate2(file, "observations", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  datasets_->qpos = createExtendible(observations, "qpos", H5T_IEEE_F64LE, {joints}, kStateChunkRows, true);
  datasets_->qvel = createExtendible(observations, "qvel", H5T_IEEE_F64LE, {joints}, kStateChunkRows, true);
  datasets_->effort =
      createExtendible(observations, "effort", H5T_IEEE_F64LE, {joints}, kStateChunkRows, true);
  datasets_->action = createExtendible(file, "action", H5T_IEEE_F64LE, {joints}, kStateChunkRows, true);
  datasets_->timestamp = createExtendible(file, "timestamp", H5T_IEEE_F64LE, {}, kStateChunkRows, true);

  h5::Handle images = h5::group(H5Gcreate2(observations, "images", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  h5::Handle stamps =
      h5::group(H5Gcreate2(observations, "image_timestamps", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  for (const CameraSpec& cam : info_.cameras) {
    std::vector<hsize_t> frame{static_cast<hsize_t>(cam.height), static_cast<hsize_t>(cam.width), 3};
    datasets_->images.push_back(createExtendible(images, cam.name, H5T_STD_U8LE, frame, 1, false));
    datasets_->imageTimestamps.push_back(
        createExtendible(stamps, cam.name, H5T_IEEE_F64LE, {}, kStateChunkRows, true));
  }
}

void EpisodeWriter::validate(const Observation& obs) const {
  if (obs.state.position.size() != info_.joints || obs.action.size() != info_.joints ||
      obs.frames.size() != info_.cameras.size())
    throw RecorderError(path_ + ": observation does not match the episode layout (joints or cameras)");
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
    if (queue_.size() >= capacity_) {
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
    roomAvailable_.wait(lock, [&] { return queue_.size() < capacity_ || closing_ || !error_.empty(); });
    if (closing_ || !error_.empty()) return;
    queue_.push_back(observation);
    stats_.queuePeak = std::max(stats_.queuePeak, queue_.size());
  }
  wakeWriter_.notify_one();
}

void EpisodeWriter::threadMain() {
  std::vector<Observation> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wakeWriter_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty() && closing_) return;
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    roomAvailable_.notify_all();
    if (!error().empty()) continue;  // after an I/O error keep draining, write nothing more
    try {
      writeBatch(batch);
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      error_ = path_ + ": write failed after " + std::to_string(stats_.written) + " ticks: " + e.what();
    }
    roomAvailable_.notify_all();
  }
}

// One extent change and one write per state dataset for the whole batch; images go chunk by chunk,
// straight to the file without HDF5's type conversion.
void EpisodeWriter::writeBatch(const std::vector<Observation>& batch) {
  if (batch.empty()) return;
  if (!haveFirstTime_) {
    firstTime_ = batch.front().time;
    haveFirstTime_ = true;
  }
  const hsize_t n = batch.size(), j = info_.joints, oldRows = datasets_->rows;
  std::vector<double> qpos, qvel, effort, action, stamps;
  qpos.reserve(n * j);
  for (const Observation& obs : batch) {
    qpos.insert(qpos.end(), obs.state.position.begin(), obs.state.position.end());
    qvel.insert(qvel.end(), obs.state.velocity.begin(), obs.state.velocity.end());
    effort.insert(effort.end(), obs.state.effort.begin(), obs.state.effort.end());
    action.insert(action.end(), obs.action.begin(), obs.action.end());
    stamps.push_back(obs.time - firstTime_);
  }
  qvel.resize(n * j, 0.0);  // arms that report no velocity or effort record zeros
  effort.resize(n * j, 0.0);
  appendRows(datasets_->qpos, oldRows, n, j, qpos.data());
  appendRows(datasets_->qvel, oldRows, n, j, qvel.data());
  appendRows(datasets_->effort, oldRows, n, j, effort.data());
  appendRows(datasets_->action, oldRows, n, j, action.data());
  appendRows(datasets_->timestamp, oldRows, n, 0, stamps.data());

  std::uint64_t bytes = n * j * 4 * sizeof(double) + n * sizeof(double);
  for (std::size_t c = 0; c < info_.cameras.size(); ++c) {
    hid_t images = datasets_->images[c];
    const CameraSpec& cam = info_.cameras[c];
    hsize_t dims[4] = {oldRows + n, static_cast<hsize_t>(cam.height), static_cast<hsize_t>(cam.width), 3};
    h5::check(H5Dset_extent(images, dims), "extend images " + cam.name);
    std::vector<double> captureTimes;
    for (hsize_t i = 0; i < n; ++i) {
      const Image& image = batch[i].frames[c].image;
      hsize_t offset[4] = {oldRows + i, 0, 0, 0};
      h5::check(H5Dwrite_chunk(images, H5P_DEFAULT, 0, offset, image.byteSize(), image.pixels.get()),
                "write frame of " + cam.name);
      captureTimes.push_back(batch[i].frames[c].captureTime - firstTime_);
      bytes += image.byteSize();
    }
    appendRows(datasets_->imageTimestamps[c], oldRows, n, 0, captureTimes.data());
  }
  datasets_->rows += n;
  std::lock_guard lock(mutex_);
  stats_.written += n;
  stats_.bytes += bytes;
}

void EpisodeWriter::finish(std::optional<bool> success) {
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
      h5::writeDoubleAttribute(file, "duration_s", static_cast<double>(datasets_->rows) / info_.fps);
      if (success) h5::writeBoolAttribute(file, "success", *success);
      h5::writeBoolAttribute(file, "complete", true);
    }
    datasets_.reset();  // closes every dataset, then the file
  } catch (const h5::Error& e) {
    datasets_.reset();
    throw RecorderError(path_ + ": closing the episode failed: " + e.what());
  }
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
