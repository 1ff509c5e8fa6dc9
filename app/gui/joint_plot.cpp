#include "app/gui/joint_plot.hpp"

#include <QPainter>
#include <QPainterPath>
#include <algorithm>

namespace flywheel::gui {

JointPlot::JointPlot(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(110);
}

void JointPlot::setData(std::vector<double> qpos, std::size_t joints) {
  qpos_ = std::move(qpos);
  joints_ = joints;
  update();
}

void JointPlot::setPlayhead(double fraction) {
  playhead_ = fraction;
  update();
}

void JointPlot::setIdle(double headFraction, double tailFraction) {
  idleHead_ = std::clamp(headFraction, 0.0, 1.0);
  idleTail_ = std::clamp(tailFraction, 0.0, 1.0 - idleHead_);
  update();
}

void JointPlot::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), QColor(30, 32, 38));
  const QColor idle(90, 90, 100, 110);  // under the curves: the idle the "trim idle" button would cut
  p.fillRect(QRectF(0, 0, idleHead_ * width(), height()), idle);
  p.fillRect(QRectF((1.0 - idleTail_) * width(), 0, idleTail_ * width(), height()), idle);
  if (joints_ == 0 || qpos_.size() < 2 * joints_) return;
  const std::size_t ticks = qpos_.size() / joints_;
  for (std::size_t j = 0; j < joints_; ++j) {
    double lo = 1e9, hi = -1e9;
    for (std::size_t t = 0; t < ticks; ++t) {
      lo = std::min(lo, qpos_[t * joints_ + j]);
      hi = std::max(hi, qpos_[t * joints_ + j]);
    }
    const double span = std::max(hi - lo, 1e-6);
    QPainterPath path;
    for (std::size_t t = 0; t < ticks; ++t) {
      QPointF point(static_cast<double>(t) / (ticks - 1) * width(),
                    height() - 4 - (qpos_[t * joints_ + j] - lo) / span * (height() - 8));
      t == 0 ? path.moveTo(point) : path.lineTo(point);
    }
    p.setPen(QPen(QColor::fromHsv(static_cast<int>(j * 360 / joints_), 160, 230), 1.2));
    p.drawPath(path);
  }
  p.setPen(QPen(QColor(255, 80, 80), 2));
  p.drawLine(QPointF(playhead_ * width(), 0), QPointF(playhead_ * width(), height()));
}

}  // namespace flywheel::gui
