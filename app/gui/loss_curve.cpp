#include "app/gui/loss_curve.hpp"

#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

namespace flywheel::gui {

namespace {
const QColor kTrain(40, 110, 220), kHeldOut(230, 130, 30);
}

LossCurve::LossCurve(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(120);
}

void LossCurve::addEpoch(double trainLoss, double heldOutLoss) {
  train_.push_back(trainLoss);
  heldOut_.push_back(heldOutLoss);
  update();
}

void LossCurve::clear() {
  train_.clear();
  heldOut_.clear();
  update();
}

void LossCurve::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), palette().base());
  p.setPen(palette().mid().color());
  p.drawRect(rect().adjusted(0, 0, -1, -1));
  const QRectF plot = QRectF(rect()).adjusted(40, 22, -10, -20);
  const std::size_t n = train_.size();
  if (n == 0) {
    p.drawText(rect(), Qt::AlignCenter, "The train and held-out loss of each epoch appear here");
    return;
  }
  double top = 0;
  for (const auto* series : {&train_, &heldOut_})
    for (double v : *series)
      if (std::isfinite(v)) top = std::max(top, v);
  top = top > 0 ? top * 1.05 : 1.0;
  auto at = [&](std::size_t i, double v) {
    const double x = n > 1 ? plot.left() + plot.width() * double(i) / double(n - 1) : plot.center().x();
    return QPointF(x, plot.bottom() - plot.height() * v / top);
  };
  // A scale: zero, half and the top, and the epochs at the ends.
  p.setPen(palette().mid().color());
  for (double f : {0.0, 0.5, 1.0}) {
    const double y = plot.bottom() - plot.height() * f;
    p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
    p.drawText(QRectF(2, y - 8, 36, 16), Qt::AlignRight | Qt::AlignVCenter, QString::number(top * f, 'g', 2));
  }
  if (n == 1) p.drawText(QRectF(plot.left(), height() - 18, plot.width(), 16), Qt::AlignHCenter, "epoch 1");
  if (n > 1) {
    p.drawText(QPointF(plot.left(), height() - 5), "epoch 1");
    p.drawText(QRectF(plot.right() - 80, height() - 18, 80, 16), Qt::AlignRight, QString("epoch %1").arg(n));
  }
  std::size_t best = n;
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(heldOut_[i]) && (best == n || heldOut_[i] < heldOut_[best])) best = i;
  for (const auto& [series, colour] : {std::pair{&train_, kTrain}, std::pair{&heldOut_, kHeldOut}}) {
    QPainterPath path;
    bool started = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite((*series)[i])) continue;
      const QPointF point = at(i, (*series)[i]);
      started ? path.lineTo(point) : path.moveTo(point);
      started = true;
      p.setPen(Qt::NoPen);
      p.setBrush(colour);
      p.drawEllipse(point, 2.5, 2.5);
    }
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(colour, 1.8));
    p.drawPath(path);
  }
  if (best < n) {  // the model kept
    p.setPen(QPen(kHeldOut, 1.5));
    p.drawEllipse(at(best, heldOut_[best]), 5.5, 5.5);
  }
  p.setPen(kTrain);
  p.drawText(QPointF(plot.left(), 15), "train");
  p.setPen(kHeldOut);
  p.drawText(QPointF(plot.left() + 45, 15), "held-out (circled: the model kept)");
}

}  // namespace flywheel::gui
