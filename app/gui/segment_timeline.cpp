#include "app/gui/segment_timeline.hpp"

#include <QInputDialog>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <algorithm>

namespace flywheel::gui {

namespace {
constexpr int kMargin = 8;
constexpr int kEdge = 6;  // pixels around a box's edge that resize it
}  // namespace

SegmentTimeline::SegmentTimeline(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(70);
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);
}

void SegmentTimeline::setEpisode(double duration, std::vector<Segment> segments,
                                 std::vector<std::pair<double, double>> interventions) {
  duration_ = std::max(duration, 1e-3);
  interventions_ = std::move(interventions);
  setSegments(std::move(segments));
}

void SegmentTimeline::setSegments(std::vector<Segment> segments) {
  segments_ = std::move(segments);
  selected_ = -1;
  Q_EMIT selectionChanged(selected_);
  update();
}

void SegmentTimeline::setPlayhead(double seconds) {
  playhead_ = seconds;
  update();
}

void SegmentTimeline::setSelectedText(const QString& text) {
  if (selected_ < 0 || segments_[selected_].text == text.toStdString()) return;
  segments_[selected_].text = text.toStdString();
  update();
  Q_EMIT segmentsEdited();
}

double SegmentTimeline::secondsAt(int x) const {
  const double t = static_cast<double>(x - kMargin) / std::max(1, width() - 2 * kMargin);
  return std::clamp(t, 0.0, 1.0) * duration_;
}

int SegmentTimeline::xAt(double seconds) const {
  return kMargin + static_cast<int>(seconds / duration_ * (width() - 2 * kMargin));
}

QRect SegmentTimeline::boxOf(const Segment& s) const {
  return QRect(QPoint(xAt(s.start), 22), QPoint(xAt(s.end), height() - 8));
}

int SegmentTimeline::segmentAt(QPoint point) const {
  for (int i = static_cast<int>(segments_.size()) - 1; i >= 0; --i)
    if (boxOf(segments_[i]).adjusted(-kEdge, 0, kEdge, 0).contains(point)) return i;
  return -1;
}

void SegmentTimeline::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), QColor(40, 43, 50));
  for (auto [start, end] : interventions_)  // who was in control: human takeovers
    p.fillRect(QRect(QPoint(xAt(start), 0), QPoint(xAt(end), height())), QColor(210, 120, 30, 90));
  p.setPen(QColor(150, 155, 165));
  for (int second = 0; second <= static_cast<int>(duration_); ++second) {
    const int x = xAt(second);
    p.drawLine(x, 14, x, 20);
    if (duration_ < 40 || second % 5 == 0) p.drawText(x + 2, 12, QString("%1s").arg(second));
  }
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    QRect box = boxOf(segments_[i]);
    const bool chosen = static_cast<int>(i) == selected_;
    p.setBrush(chosen ? QColor(70, 150, 255) : QColor(60, 110, 190));
    p.setPen(chosen ? QPen(Qt::white, 2) : QPen(QColor(25, 30, 40)));
    p.drawRoundedRect(box, 4, 4);
    p.setPen(Qt::white);
    p.drawText(box.adjusted(4, 0, -4, 0), Qt::AlignVCenter | Qt::AlignLeft,
               p.fontMetrics().elidedText(QString::fromStdString(segments_[i].text), Qt::ElideRight,
                                          box.width() - 8));
  }
  p.setPen(QPen(QColor(255, 80, 80), 2));
  p.drawLine(xAt(playhead_), 0, xAt(playhead_), height());
}

void SegmentTimeline::mousePressEvent(QMouseEvent* event) {
  setFocus();
  const QPoint at = event->position().toPoint();
  const int index = segmentAt(at);
  selected_ = index;
  Q_EMIT selectionChanged(selected_);
  if (index >= 0) {
    const QRect box = boxOf(segments_[index]);
    dragOriginal_ = segments_[index];
    drag_ = std::abs(at.x() - box.left()) <= kEdge    ? Drag::ResizeStart
            : std::abs(at.x() - box.right()) <= kEdge ? Drag::ResizeEnd
                                                      : Drag::Move;
  } else {
    drag_ = Drag::Create;
    Q_EMIT seekRequested(secondsAt(at.x()));
  }
  dragAnchor_ = secondsAt(at.x());
  update();
}

void SegmentTimeline::mouseMoveEvent(QMouseEvent* event) {
  const double t = secondsAt(event->position().toPoint().x());
  if (drag_ == Drag::None) {
    const int index = segmentAt(event->position().toPoint());
    bool onEdge = false;
    if (index >= 0) {
      QRect box = boxOf(segments_[index]);
      onEdge = std::abs(event->position().x() - box.left()) <= kEdge ||
               std::abs(event->position().x() - box.right()) <= kEdge;
    }
    setCursor(onEdge ? Qt::SizeHorCursor : index >= 0 ? Qt::OpenHandCursor : Qt::IBeamCursor);
    return;
  }
  if (drag_ == Drag::Create) {
    if (std::abs(t - dragAnchor_) * (width() - 2 * kMargin) / duration_ < 4)
      return;  // a click, not a drag yet
    if (selected_ < 0) {
      segments_.push_back({dragAnchor_, dragAnchor_, "new segment"});
      selected_ = static_cast<int>(segments_.size()) - 1;
      Q_EMIT selectionChanged(selected_);
    }
    segments_[selected_].start = std::min(dragAnchor_, t);
    segments_[selected_].end = std::max(dragAnchor_, t);
  } else if (drag_ == Drag::Move) {
    const double length = dragOriginal_.end - dragOriginal_.start;
    const double start = std::clamp(dragOriginal_.start + (t - dragAnchor_), 0.0, duration_ - length);
    segments_[selected_].start = start;
    segments_[selected_].end = start + length;
  } else if (drag_ == Drag::ResizeStart) {
    segments_[selected_].start = std::min(t, segments_[selected_].end - 0.05);
  } else if (drag_ == Drag::ResizeEnd) {
    segments_[selected_].end = std::max(t, segments_[selected_].start + 0.05);
  }
  update();
}

void SegmentTimeline::mouseReleaseEvent(QMouseEvent*) {
  const bool changed = drag_ != Drag::None && selected_ >= 0 && !(segments_[selected_] == dragOriginal_);
  drag_ = Drag::None;
  if (changed) {
    Segment chosen = segments_[selected_];
    std::sort(segments_.begin(), segments_.end(),
              [](const Segment& a, const Segment& b) { return a.start < b.start; });
    selected_ = static_cast<int>(std::find(segments_.begin(), segments_.end(), chosen) - segments_.begin());
    Q_EMIT selectionChanged(selected_);
    Q_EMIT segmentsEdited();
  }
  update();
}

void SegmentTimeline::mouseDoubleClickEvent(QMouseEvent* event) {
  const int index = segmentAt(event->position().toPoint());
  if (index < 0) return;
  bool ok = false;
  QString text = QInputDialog::getText(this, "Segment", "What happens here:", QLineEdit::Normal,
                                       QString::fromStdString(segments_[index].text), &ok);
  if (ok && !text.isEmpty()) {
    selected_ = index;
    setSelectedText(text);
  }
}

void SegmentTimeline::keyPressEvent(QKeyEvent* event) {
  if ((event->key() == Qt::Key_Delete || event->key() == Qt::Key_Backspace) && selected_ >= 0) {
    segments_.erase(segments_.begin() + selected_);
    selected_ = -1;
    Q_EMIT selectionChanged(selected_);
    Q_EMIT segmentsEdited();
    update();
    return;
  }
  QWidget::keyPressEvent(event);
}

}  // namespace flywheel::gui
