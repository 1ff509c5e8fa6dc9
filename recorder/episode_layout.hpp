// The episode file's HDF5 layout, ALOHA's: which datasets and attributes a take holds, their shapes, types
// and chunking, and how one batch of ticks is appended. No threads and no crash-safety policy: the
// EpisodeWriter (recorder/episode_writer.hpp) creates the file, drives this from its writer thread and
// decides when the file is flushed.
//
//   /observations/qpos, qvel, effort   [T, J] float64 (float32 in exports that ask for ALOHA's own type)
//   /observations/images/<camera>      [T, H, W, 3] uint8 (RGB)
//   /observations/image_timestamps/<camera> [T] float64, capture time of the frame used at tick t
//   /action                            [T, J] float64
//   /timestamp                         [T] float64, measured seconds since the first tick
//   /intervention                      [T] bool (h5py's enum), a human had control of the followers
//   /policy_action                     [T, J] float64, policy runs only: the policy's proposal (NaN: none)
//   /policy_source                     [T] uint8 enum (h5py's enum: none 0, main 1, fallback 2, human 3),
//                                      policy runs only: what produced /action (none: the followers held)
//   /compress_len                      [cameras, T] float32, JPEG storage only: each frame's byte length
//   root attributes: sim, task, fps, rig_name, rig_config, software_version, start_time, complete, ...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "recorder/episode_writer.hpp"
#include "recorder/h5.hpp"

namespace flywheel {

struct EpisodeLabels;

// The file type of the joint datasets (qpos, qvel, effort, action, policy_action). Recordings keep
// float64; ALOHA's recorder stores float32 (h5py's default), which exports may ask for.
enum class JointPrecision { Float64, Float32 };

class EpisodeLayout {
 public:
  // Takes the freshly created, empty file and writes the opening attributes and every (empty) dataset.
  // Throws h5::Error; the file is closed with this object.
  EpisodeLayout(h5::Handle file, const EpisodeInfo& info, JointPrecision precision = JointPrecision::Float64);

  // Appends one row per observation to every dataset (images first). Returns the bytes handed to HDF5,
  // after JPEG encoding. Throws h5::Error.
  std::uint64_t append(const std::vector<Observation>& batch);
  // The closing attributes of a take that ended without an I/O error: per-camera frame statistics,
  // duration, outcome, the recorded labels, and complete (or stop_reason when it was cut short).
  void writeClosingAttributes(const std::vector<CameraStats>& cameras, std::optional<bool> success,
                              const std::string& stopReason);

  hid_t file() const { return file_; }
  hsize_t rows() const { return rows_; }

 private:
  EpisodeLabels recordedLabels(std::optional<bool> success) const;
  void writeRootAttributes();
  void createDatasets();
  void appendImages(std::size_t camera, const std::vector<Observation>& batch, std::uint64_t& bytes);
  void appendJpegFrames(std::size_t camera, const std::vector<Observation>& batch, std::uint64_t& bytes);

  EpisodeInfo info_;
  JointPrecision precision_;
  h5::Handle file_;  // declared before the datasets: closed after every one of them
  h5::Handle qpos_, qvel_, effort_, action_, timestamp_, intervention_;
  h5::Handle policyAction_, policySource_;  // policy runs only
  std::vector<h5::Handle> images_, imageTimestamps_;
  h5::Handle compressLength_;        // JPEG storage: [cameras, T] float32 lengths, as ALOHA writes them
  std::vector<hsize_t> paddedSize_;  // JPEG storage: current row width per camera
  hsize_t rows_ = 0;
  double firstTime_ = 0.0;  // the first tick's time: /timestamp counts from it
  bool haveFirstTime_ = false;
};

}  // namespace flywheel
