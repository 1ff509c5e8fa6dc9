#include "app/gui/chunk_timeline.hpp"

#include <QPainter>

namespace flywheel::gui {

ChunkTimeline::ChunkTimeline(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(110);
}

void ChunkTimeline::setEvents(std::deque<ChunkEvent> events, double now, double stepSeconds) {
  events_ = std::move(events);
  now_ = now;
  stepSeconds_ = stepSeconds;
  update();
}

void ChunkTimeline::setFallbackEvents(std::deque<ChunkEvent> events) {
  fallbackEvents_ = std::move(events);
}

void ChunkTimeline::addSource(double time, PolicySource source) {
  sources_.emplace_back(time, source);
  while (!sources_.empty() && sources_.front().first < time - kWindowSeconds - 1.0)
    sources_.pop_front();
}

double ChunkTimeline::xAt(double t) const {
  return 1.0 + (width() - 2.0) * (1.0 - (now_ - t) / kWindowSeconds);
}

QColor ChunkTimeline::colourOf(PolicySource source) {
  switch (source) {
    case PolicySource::Main:
      return QColor(60, 170, 90);
    case PolicySource::Fallback:
      return QColor(140, 80, 210);
    case PolicySource::Human:
      return QColor(217, 119, 6);
    case PolicySource::None:
      break;
  }
  return QColor(200, 50, 45);
}

void ChunkTimeline::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  p.setPen(palette().mid().color());
  p.drawRect(rect().adjusted(0, 0, -1, -1));
  auto x = [this](double t) { return xAt(t); };
  // Seconds ago, as a scale.
  for (int s = 1; s < kWindowSeconds; ++s) {
    const double gx = x(now_ - s);
    p.setPen(QColor(128, 128, 128, 60));
    p.drawLine(QPointF(gx, 0), QPointF(gx, height()));
    p.setPen(palette().mid().color());
    p.drawText(QPointF(gx + 2, height() - 3), QString("-%1 s").arg(s));
  }
  int index = 0;  // answers cycle through a few rows, so overlapping chunks stay apart
  paintChunks(p, events_, false, index);
  paintChunks(p, fallbackEvents_, true, index);
  paintSources(p);
  p.setPen(QPen(QColor(30, 100, 220), 2));
  p.drawLine(QPointF(x(now_) - 1, 0), QPointF(x(now_) - 1, height()));
  p.setPen(palette().text().color());
  p.drawText(QPointF(6, 13), fallbackEvents_.empty() && sources_.empty()
                                 ? "grey: latency · green: steps a chunk covers · red: refused"
                                 : "grey: latency · green: main · purple: fallback · red: refused/holding");
}

void ChunkTimeline::paintChunks(QPainter& p, const std::deque<ChunkEvent>& events, bool fallback,
                                int& index) {
  auto x = [this](double t) { return xAt(t); };
  const int rows = 8;
  const double rowHeight = (height() - 44.0) / rows;
  const QColor accepted = fallback ? QColor(140, 80, 210, 150) : QColor(60, 170, 90, 150);
  for (const ChunkEvent& event : events) {
    const double coverEnd = event.requestTime + event.horizon * stepSeconds_;
    if (coverEnd < now_ - kWindowSeconds) continue;
    const double top = 18.0 + rowHeight * (index++ % rows);
    p.fillRect(
        QRectF(x(event.answerTime), top + 2, std::max(1.0, x(coverEnd) - x(event.answerTime)), rowHeight - 4),
        event.accepted ? accepted : QColor(210, 60, 50, 170));
    p.fillRect(QRectF(x(event.requestTime), top + 2,
                      std::max(1.0, x(event.answerTime) - x(event.requestTime)), rowHeight - 4),
               QColor(130, 130, 130, 200));
  }
}

// What drove each moment, as a strip above the seconds scale.
void ChunkTimeline::paintSources(QPainter& p) {
  auto x = [this](double t) { return xAt(t); };
  const double top = height() - 24.0;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    const double end = i + 1 < sources_.size() ? sources_[i + 1].first : now_;
    if (end < now_ - kWindowSeconds) continue;
    const double from = std::max(x(sources_[i].first), 1.0);
    p.fillRect(QRectF(from, top, std::max(1.0, x(end) - from), 6.0), colourOf(sources_[i].second));
  }
}

}  // namespace flywheel::gui
