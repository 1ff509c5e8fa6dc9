// One training run off the GUI thread: builds the TrainingSet (it opens every episode, seconds) and runs
// trainPolicy on a worker thread, and reports back on the thread that owns the job (the GUI's) through
// the signals below, so their receivers may touch widgets. Cancel keeps the best model so far, as Ctrl-C
// does in `flywheel train`; destroying a running job cancels it and waits for the current batch.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <atomic>
#include <chrono>
#include <thread>

#include "training/trainer.hpp"
#include "training/training_set.hpp"

namespace flywheel::gui {

// What the training set made of the chosen episodes.
struct TrainData {
  QStringList used;     // file names
  QStringList skipped;  // "episode_3.hdf5: damaged: ..."
  QStringList heldOut;  // file names
  std::size_t trainSamples = 0, heldOutSamples = 0;
};

class TrainJob : public QObject {
  Q_OBJECT
 public:
  TrainJob(TrainingSetOptions data, TrainOptions options, QObject* parent = nullptr);
  ~TrainJob() override;

  void start();
  void cancel() { cancel_ = true; }
  bool running() const { return running_; }
  bool cancelRequested() const { return cancel_; }
  const TrainOptions& options() const { return options_; }

 Q_SIGNALS:
  void dataReady(const flywheel::gui::TrainData& data);
  void progressed(const flywheel::TrainProgress& progress);  // at most ~20 a second, and every epoch end
  void finished(const flywheel::TrainResult& result);
  void failed(const QString& message);  // nothing usable, bad options, cancelled before an epoch...

 private:
  void work();
  template <typename F>
  void post(F&& f);  // runs f on the job's thread

  TrainingSetOptions data_;
  TrainOptions options_;
  std::atomic<bool> cancel_{false};
  bool running_ = false;
  std::chrono::steady_clock::time_point lastReport_{};
  std::thread worker_;
};

}  // namespace flywheel::gui
