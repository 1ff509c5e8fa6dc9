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

void ChunkTimeline::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  p.setPen(palette().mid().color());
  p.drawRect(rect().adjusted(0, 0, -1, -1));
  const double width = this->width() - 2.0;
  auto x = [&](double t) { return 1.0 + width * (1.0 - (now_ - t) / kWindowSeconds); };
  // Seconds ago, as a scale.
  for (int s = 1; s < kWindowSeconds; ++s) {
    const double gx = x(now_ - s);
    p.setPen(QColor(128, 128, 128, 60));
    p.drawLine(QPointF(gx, 0), QPointF(gx, height()));
    p.setPen(palette().mid().color());
    p.drawText(QPointF(gx + 2, height() - 3), QString("-%1 s").arg(s));
  }
  // Answers cycle through a few rows, oldest at the top, so overlapping chunks stay apart.
  const int rows = 8;
  const double rowHeight = (height() - 34.0) / rows;
  int index = 0;
  for (const ChunkEvent& event : events_) {
    const double coverEnd = event.requestTime + event.horizon * stepSeconds_;
    if (coverEnd < now_ - kWindowSeconds) continue;
    const double top = 18.0 + rowHeight * (index++ % rows);
    p.fillRect(
        QRectF(x(event.answerTime), top + 2, std::max(1.0, x(coverEnd) - x(event.answerTime)), rowHeight - 4),
        event.accepted ? QColor(60, 170, 90, 150) : QColor(210, 60, 50, 170));
    p.fillRect(QRectF(x(event.requestTime), top + 2,
                      std::max(1.0, x(event.answerTime) - x(event.requestTime)), rowHeight - 4),
               QColor(130, 130, 130, 200));
  }
  p.setPen(QPen(QColor(30, 100, 220), 2));
  p.drawLine(QPointF(x(now_) - 1, 0), QPointF(x(now_) - 1, height()));
  p.setPen(palette().text().color());
  p.drawText(QPointF(6, 13), "grey: latency · green: steps a chunk covers · red: refused");
}

}  // namespace flywheel::gui
