// ReviewView's Trim idle: the idle head and tail measured by recorder/episode_quality become trim marks.
#include <QFileInfo>
#include <filesystem>

#include "app/gui/review_view.hpp"
#include "app/gui/segment_timeline.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/trims.hpp"

namespace flywheel::gui {

namespace {

// `labels` with the idle head and tail of `path` trimmed; throws RecorderError when it cannot be.
EpisodeLabels idleTrimmed(const std::string& path, EpisodeLabels labels) {
  EpisodeReader reader(path);
  const EpisodeSummary summary = reader.summary();
  if (!summary.problem.empty()) throw RecorderError(path + ": " + summary.problem);
  if (!setIdleTrim(labels, reader, summary)) throw RecorderError("no joint moved: nothing to trim");
  if (std::string problem = validateTrim(labels, trimmableDuration(summary)); !problem.empty())
    throw RecorderError(problem);
  return labels;
}

}  // namespace

int ReviewView::trimIdleSelected() {
  int trimmed = 0, saved = 0;
  QStringList problems;
  bool openOne = false;
  for (const QString& file : selectedEpisodes()) {
    const std::string path = file.toStdString();
    try {
      if (file == path_ && reader_) {  // an edit like any other: undo takes it back, Save keeps it
        const EpisodeLabels now = idleTrimmed(path, labels());
        timeline_->setTrim(now.trimStart, now.trimEnd);
        remember();
        openOne = true;
      } else {
        writeLabels(path, idleTrimmed(path, readLabels(path)));
        DatasetIndex(dataset_.path()).update(path);
        ++saved;
      }
      ++trimmed;
    } catch (const std::exception& e) {
      problems << QString("%1: %2").arg(QFileInfo(file).fileName(), e.what());
    }
  }
  if (saved > 0) reloadEpisodes();
  QString text = QString("Trimmed the idle head and tail of %1 episode(s)").arg(trimmed);
  if (saved > 0) text += QString(", %1 saved").arg(saved);
  if (openOne) text += ", the open one not saved yet (Ctrl+S, or Ctrl+Z to undo)";
  if (!problems.isEmpty()) text += "; not trimmed: " + problems.join("; ");
  Q_EMIT message(text);
  return trimmed;
}

}  // namespace flywheel::gui
