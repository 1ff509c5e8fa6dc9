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
  const int rows = 8;
  const double rowHeight = (height() - 16.0) / rows;
  int row = 0;
  for (auto it = events_.rbegin(); it != events_.rend() && row < rows; ++it) {
    if (it->answerTime < now_ - kWindowSeconds - 5.0) break;
    const double top = 2.0 + rowHeight * (rows - 1 - row++);
    const double observed = it->requestTime;
    const double coverEnd = observed + it->horizon * stepSeconds_;
    p.fillRect(
        QRectF(x(it->answerTime), top + 2, std::max(1.0, x(coverEnd) - x(it->answerTime)), rowHeight - 4),
        it->accepted ? QColor(60, 170, 90, 150) : QColor(210, 60, 50, 170));
    p.fillRect(QRectF(x(observed), top + 2, std::max(1.0, x(it->answerTime) - x(observed)), rowHeight - 4),
               QColor(130, 130, 130, 200));
  }
  p.setPen(QPen(QColor(30, 100, 220), 2));
  p.drawLine(QPointF(x(now_) - 1, 0), QPointF(x(now_) - 1, height()));
  p.setPen(palette().text().color());
  p.drawText(QPointF(6, 13), "grey: latency · green: steps a chunk covers · red: refused");
}

}  // namespace flywheel::gui
