#include "app/gui/camera_tile.hpp"

#include <QImage>
#include <QPainter>

namespace flywheel::gui {

CameraTile::CameraTile(Camera& camera, QWidget* parent) : QWidget(parent), camera_(camera) {
  setMinimumSize(240, 180);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void CameraTile::refresh() {
  CameraFrame frame = camera_.latest();
  if (frame.sequence == frame_.sequence || frame.image.empty()) return;
  frame_ = std::move(frame);
  ++framesShown_;
  update();
}

void CameraTile::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), QColor(24, 26, 30));
  if (!frame_.image.empty()) {
    const Image& img = frame_.image;
    QImage view(img.pixels.get(), img.width, img.height, img.width * 3, QImage::Format_RGB888);
    QSize size = view.size().scaled(this->size(), Qt::KeepAspectRatio);
    QRect target(QPoint((width() - size.width()) / 2, (height() - size.height()) / 2), size);
    painter.setRenderHint(QPainter::SmoothPixmapTransform);
    painter.drawImage(target, view);
  }
  QString label =
      QString::fromStdString(camera_.name()) + QString("  %1 fps").arg(camera_.measuredFps(), 0, 'f', 1);
  QRect badge(8, 8, painter.fontMetrics().horizontalAdvance(label) + 16, painter.fontMetrics().height() + 8);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setBrush(QColor(0, 0, 0, 150));
  painter.setPen(Qt::NoPen);
  painter.drawRoundedRect(badge, 4, 4);
  painter.setPen(Qt::white);
  painter.drawText(badge, Qt::AlignCenter, label);
}

}  // namespace flywheel::gui
