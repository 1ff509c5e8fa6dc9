#include "app/gui/segment_timeline.hpp"

#include <QContextMenuEvent>
#include <QInputDialog>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <algorithm>

namespace flywheel::gui {

namespace {
constexpr int kMargin = 8;
constexpr int kEdge = 6;           // pixels around a box's edge that resize it
constexpr int kRuler = 22;         // the top strip: seconds, and the trim handles' grips
constexpr int kLane = 26;          // the human-control lane's height, at the bottom
constexpr double kMinSpan = 0.01;  // seconds: a shorter unreviewed rest is a rounding sliver, not a span
constexpr double kMinTrim = 0.05;  // seconds kept between the two trim marks

QColor kindColour(SpanKind kind, bool chosen) {
  switch (kind) {
    case SpanKind::Recovery:
      return chosen ? QColor(235, 120, 80) : QColor(190, 90, 55);
    case SpanKind::Correction:
      return chosen ? QColor(90, 210, 120) : QColor(55, 160, 85);
    case SpanKind::None:
      break;
  }
  return chosen ? QColor(70, 150, 255) : QColor(60, 110, 190);
}
}  // namespace

SegmentTimeline::SegmentTimeline(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(100);
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);
}

void SegmentTimeline::setEpisode(double duration, std::vector<Segment> segments,
                                 std::vector<std::pair<double, double>> interventions) {
  duration_ = std::max(duration, 1e-3);
  interventions_ = std::move(interventions);
  human_.clear();
  for (auto [start, end] : interventions_)
    human_.push_back({start, end});
  setSegments(std::move(segments));
}

void SegmentTimeline::setSourceBands(std::vector<SourceBand> bands) {
  sourceBands_ = std::move(bands);
  update();
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

int SegmentTimeline::languageLaneY() const {
  return (kRuler + height() - kLane - 4) / 2;
}

int SegmentTimeline::controlLaneY() const {
  return height() - kLane / 2 - 2;
}

QRect SegmentTimeline::boxOf(const Segment& s) const {
  if (spanKindOf(s) != SpanKind::None) return boxOf(TimeSpan{s.start, s.end});
  return QRect(QPoint(xAt(s.start), kRuler), QPoint(xAt(s.end), height() - kLane - 6));
}

QRect SegmentTimeline::boxOf(const TimeSpan& span) const {
  return QRect(QPoint(xAt(span.start), height() - kLane - 2), QPoint(xAt(span.end), height() - 3));
}

int SegmentTimeline::segmentAt(QPoint point) const {
  for (int i = static_cast<int>(segments_.size()) - 1; i >= 0; --i)
    if (boxOf(segments_[i]).adjusted(-kEdge, 0, kEdge, 0).contains(point)) return i;
  return -1;
}

std::vector<TimeSpan> SegmentTimeline::unreviewed() const {
  return unreviewedSpans(human_, segments_, kMinSpan);
}

int SegmentTimeline::unreviewedAt(QPoint point) const {
  const std::vector<TimeSpan> open = unreviewed();
  for (std::size_t i = 0; i < open.size(); ++i)
    if (boxOf(open[i]).contains(point)) return static_cast<int>(i);
  return -1;
}

void SegmentTimeline::setTrim(std::optional<double> start, std::optional<double> end) {
  trimStart_ = start;
  trimEnd_ = end;
  update();
}

// In the ruler strip a handle always wins; below it, only where no box is.
SegmentTimeline::Drag SegmentTimeline::trimHandleAt(QPoint point) const {
  if (point.y() >= kRuler && (segmentAt(point) >= 0 || unreviewedAt(point) >= 0)) return Drag::None;
  const int toStart = std::abs(point.x() - xAt(trimStart_.value_or(0.0)));
  const int toEnd = std::abs(point.x() - xAt(trimEnd_.value_or(duration_)));
  if (std::min(toStart, toEnd) > kEdge) return Drag::None;
  return toStart < toEnd ? Drag::TrimStart : Drag::TrimEnd;
}

// A handle dragged back to its end of the timeline clears that mark.
void SegmentTimeline::dragTrim(double t) {
  if (drag_ == Drag::TrimStart) {
    t = std::min(t, trimEnd_.value_or(duration_) - kMinTrim);
    trimStart_ = t <= 0.0 ? std::nullopt : std::optional<double>(t);
  } else {
    t = std::max(t, trimStart_.value_or(0.0) + kMinTrim);
    trimEnd_ = t >= duration_ ? std::nullopt : std::optional<double>(t);
  }
}

void SegmentTimeline::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), QColor(40, 43, 50));
  for (const SourceBand& band : sourceBands_)  // the fallback drove, or nothing did
    if (band.source == PolicySource::Fallback || band.source == PolicySource::None)
      p.fillRect(QRect(QPoint(xAt(band.start), 0), QPoint(xAt(band.end), height())),
                 band.source == PolicySource::Fallback ? QColor(140, 80, 210, 90) : QColor(200, 50, 45, 70));
  for (auto [start, end] : interventions_)  // who was in control: human takeovers
    p.fillRect(QRect(QPoint(xAt(start), 0), QPoint(xAt(end), height())), QColor(210, 120, 30, 90));
  p.setPen(QColor(150, 155, 165));
  for (int second = 0; second <= static_cast<int>(duration_); ++second) {
    const int x = xAt(second);
    p.drawLine(x, 14, x, 20);
    if (duration_ < 40 || second % 5 == 0) p.drawText(x + 2, 12, QString("%1s").arg(second));
  }
  paintControlLane(p);
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    QRect box = boxOf(segments_[i]);
    const bool chosen = static_cast<int>(i) == selected_;
    p.setBrush(kindColour(spanKindOf(segments_[i]), chosen));
    p.setPen(chosen ? QPen(Qt::white, 2) : QPen(QColor(25, 30, 40)));
    p.drawRoundedRect(box, 4, 4);
    p.setPen(Qt::white);
    p.drawText(box.adjusted(4, 0, -4, 0), Qt::AlignVCenter | Qt::AlignLeft,
               p.fontMetrics().elidedText(QString::fromStdString(segments_[i].text), Qt::ElideRight,
                                          box.width() - 8));
  }
  paintTrim(p);
  p.setPen(QPen(QColor(255, 80, 80), 2));
  p.drawLine(xAt(playhead_), 0, xAt(playhead_), height());
}

// Unreviewed human control: dashed boxes in the lower lane, to split and mark.
void SegmentTimeline::paintControlLane(QPainter& p) {
  p.fillRect(QRect(0, height() - kLane - 3, width(), kLane + 3), QColor(33, 35, 41));
  p.setBrush(Qt::NoBrush);
  for (const TimeSpan& span : unreviewed()) {
    const QRect box = boxOf(span);
    p.setPen(QPen(QColor(240, 160, 60), 1, Qt::DashLine));
    p.drawRect(box);
    p.drawText(
        box.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft,
        p.fontMetrics().elidedText("human control: right-click to mark", Qt::ElideRight, box.width() - 6));
  }
}

// The time outside the trim dimmed, and a handle at each mark (at the ends when untrimmed).
void SegmentTimeline::paintTrim(QPainter& p) {
  const int start = xAt(trimStart_.value_or(0.0)), end = xAt(trimEnd_.value_or(duration_));
  p.fillRect(QRect(QPoint(kMargin, 0), QPoint(start, height())), QColor(0, 0, 0, 150));
  p.fillRect(QRect(QPoint(end, 0), QPoint(width() - kMargin, height())), QColor(0, 0, 0, 150));
  for (auto [x, set] : {std::pair{start, trimStart_.has_value()}, std::pair{end, trimEnd_.has_value()}}) {
    const QColor colour = set ? QColor(250, 210, 60) : QColor(160, 150, 100);
    p.setPen(QPen(colour, 2));
    p.drawLine(x, 0, x, height());
    p.setBrush(colour);
    p.drawRect(QRect(x - kEdge / 2, 0, kEdge, kRuler - 6));
  }
}

void SegmentTimeline::mousePressEvent(QMouseEvent* event) {
  setFocus();
  const QPoint at = event->position().toPoint();
  if (event->button() != Qt::LeftButton) return;  // the right button opens the menu
  if (Drag handle = trimHandleAt(at); handle != Drag::None) {
    drag_ = handle;
    trimOriginal_ = handle == Drag::TrimStart ? trimStart_ : trimEnd_;
    return;
  }
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
  if (drag_ == Drag::TrimStart || drag_ == Drag::TrimEnd) {
    dragTrim(t);
    update();
    return;
  }
  if (drag_ == Drag::None) {
    if (trimHandleAt(event->position().toPoint()) != Drag::None) return setCursor(Qt::SplitHCursor);
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
  if (drag_ == Drag::TrimStart || drag_ == Drag::TrimEnd) {
    const bool changed = (drag_ == Drag::TrimStart ? trimStart_ : trimEnd_) != trimOriginal_;
    drag_ = Drag::None;
    if (changed) Q_EMIT trimEdited();
    return;
  }
  const bool changed = drag_ != Drag::None && selected_ >= 0 && !(segments_[selected_] == dragOriginal_);
  drag_ = Drag::None;
  if (changed) edited(selected_);
  update();
}

void SegmentTimeline::edited(int select) {
  const Segment chosen = segments_[select];
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.start < b.start; });
  selected_ = static_cast<int>(std::find(segments_.begin(), segments_.end(), chosen) - segments_.begin());
  Q_EMIT selectionChanged(selected_);
  Q_EMIT segmentsEdited();
  update();
}

std::unique_ptr<QMenu> SegmentTimeline::menuAt(QPoint point) {
  const int segment = segmentAt(point), span = segment < 0 ? unreviewedAt(point) : -1;
  if (segment < 0 && span < 0) return nullptr;
  const double t = secondsAt(point.x());
  auto menu = std::make_unique<QMenu>(this);
  const TimeSpan range = segment >= 0 ? TimeSpan{segments_[segment].start, segments_[segment].end}
                                      : unreviewed()[static_cast<std::size_t>(span)];
  QAction* split =
      menu->addAction(segment >= 0 ? "Split here" : "Split here: recovery before, correction after", this,
                      [=, this] { splitAt(t, segment, span); });
  split->setEnabled(range.start + kMinSpan < t && t < range.end - kMinSpan);
  menu->addAction("Mark as recovery (bringing the robot back)", this,
                  [=, this] { markAs(SpanKind::Recovery, segment, span); });
  menu->addAction("Mark as correction (doing it right)", this,
                  [=, this] { markAs(SpanKind::Correction, segment, span); });
  return menu;
}

void SegmentTimeline::contextMenuEvent(QContextMenuEvent* event) {
  if (std::unique_ptr<QMenu> menu = menuAt(event->pos())) menu->exec(event->globalPos());
}

void SegmentTimeline::splitAt(double t, int segment, int span) {
  if (segment >= 0) {
    if (splitSegment(segments_, static_cast<std::size_t>(segment), t)) edited(segment + 1);
    return;
  }
  const TimeSpan range = unreviewed().at(static_cast<std::size_t>(span));
  segments_.push_back({range.start, t, nameOf(SpanKind::Recovery)});
  segments_.push_back({t, range.end, nameOf(SpanKind::Correction)});
  edited(static_cast<int>(segments_.size()) - 1);
}

void SegmentTimeline::markAs(SpanKind kind, int segment, int span) {
  if (segment >= 0) {
    segments_[segment].text = markedText(segments_[segment].text, kind);
    return edited(segment);
  }
  const TimeSpan range = unreviewed().at(static_cast<std::size_t>(span));
  segments_.push_back({range.start, range.end, nameOf(kind)});
  edited(static_cast<int>(segments_.size()) - 1);
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
