// Review view, episode quality: the verdict column (reasons on hover), the verdict filter and the idle head
// and tail shaded on the joint plot. The verdicts come from the dataset index (recorder/dataset_index.hpp).
#include <QStringList>

#include "app/gui/joint_plot.hpp"
#include "app/gui/review_view.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_quality.hpp"

namespace flywheel::gui {

QTableWidgetItem* ReviewView::verdictItem(const EpisodeEntry& e) {
  const bool judged = e.quality || !e.verdictReasons.empty();  // unreadable files are not judged
  auto* item = new QTableWidgetItem(judged ? nameOf(e.verdict) : "-");
  item->setData(Qt::UserRole, judged ? QString(nameOf(e.verdict)) : QString());
  QStringList reasons;
  for (const std::string& reason : e.verdictReasons)
    reasons << QString::fromStdString(reason);
  item->setToolTip(!judged             ? "Not measured"
                   : reasons.isEmpty() ? "Nothing found to check"
                                       : reasons.join("\n"));
  if (judged && e.verdict != Verdict::Good)
    item->setForeground(e.verdict == Verdict::Bad ? QColor(200, 50, 50) : QColor(200, 140, 0));
  return item;
}

QComboBox* ReviewView::makeVerdictFilter(QWidget* parent) {
  verdictFilter_ = new QComboBox(parent);
  verdictFilter_->addItem("All verdicts", QString());
  for (Verdict v : {Verdict::Good, Verdict::Check, Verdict::Bad})
    verdictFilter_->addItem(QString("Only %1").arg(nameOf(v)), QString(nameOf(v)));
  verdictFilter_->setToolTip("Show only the episodes with this verdict (hover a verdict for its reasons)");
  connect(verdictFilter_, &QComboBox::currentIndexChanged, this, &ReviewView::applyVerdictFilter);
  return verdictFilter_;
}

void ReviewView::applyVerdictFilter() {
  const QString wanted = verdictFilter_->currentData().toString();
  for (int row = 0; row < episodes_->rowCount(); ++row) {
    const QTableWidgetItem* item = episodes_->item(row, kVerdictColumn);
    episodes_->setRowHidden(row,
                            !wanted.isEmpty() && (!item || item->data(Qt::UserRole).toString() != wanted));
  }
}

// Stored at save in newer files, measured here for older ones; nothing is shaded when it cannot be.
void ReviewView::showIdle() {
  double head = 0.0, tail = 0.0;
  try {
    std::optional<EpisodeQuality> quality = readStoredQuality(reader_->file());
    if (!quality) quality = measureOpenEpisode(reader_->file(), path_.toStdString());
    if (summary_.measuredDuration > 0) {
      head = quality->idleHeadSeconds / summary_.measuredDuration;
      tail = quality->idleTailSeconds / summary_.measuredDuration;
    }
  } catch (const std::exception&) {
  }
  plot_->setIdle(head, tail);
}

}  // namespace flywheel::gui
