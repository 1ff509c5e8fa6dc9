#include "app/gui/train_job.hpp"

#include <QDir>
#include <QFileInfo>

namespace flywheel::gui {

namespace {

QString fileName(const std::string& path) {
  return QFileInfo(QString::fromStdString(path)).fileName();
}

TrainData describe(const TrainingSet& set) {
  TrainData data;
  for (const EpisodeUse& use : set.usage())
    (use.heldOut ? data.heldOut : data.used) << fileName(use.path);
  for (const SkippedEpisode& skipped : set.skipped())
    data.skipped << fileName(skipped.path) + ": " + QString::fromStdString(skipped.reason);
  data.trainSamples = set.trainSamples().size();
  data.heldOutSamples = set.heldOutSamples().size();
  return data;
}

}  // namespace

TrainJob::TrainJob(TrainingSetOptions data, TrainOptions options, QObject* parent)
    : QObject(parent), data_(std::move(data)), options_(std::move(options)) {}

TrainJob::~TrainJob() {
  cancel_ = true;
  // Anything the worker posts before it ends is dropped with this object's pending events.
  if (worker_.joinable()) worker_.join();
}

template <typename F>
void TrainJob::post(F&& f) {
  QMetaObject::invokeMethod(this, std::forward<F>(f), Qt::QueuedConnection);
}

void TrainJob::start() {
  if (running_ || worker_.joinable()) return;  // one run per job
  running_ = true;
  QDir().mkpath(QFileInfo(QString::fromStdString(options_.out)).absolutePath());
  worker_ = std::thread([this] { work(); });
}

void TrainJob::work() {
  try {
    TrainingSet set(data_);
    post([this, data = describe(set)] { Q_EMIT dataReady(data); });
    if (cancel_) throw TrainingError("cancelled before the first epoch: no model was saved");
    TrainResult result = trainPolicy(
        set, options_,
        [this](const TrainProgress& p) {
          const auto now = std::chrono::steady_clock::now();
          if (!p.epochDone && now - lastReport_ < std::chrono::milliseconds(50)) return;
          lastReport_ = now;
          post([this, p] { Q_EMIT progressed(p); });
        },
        cancel_);
    post([this, result] {
      running_ = false;
      Q_EMIT finished(result);
    });
  } catch (const std::exception& e) {
    post([this, text = QString::fromStdString(e.what())] {
      running_ = false;
      Q_EMIT failed(text);
    });
  }
}

}  // namespace flywheel::gui
