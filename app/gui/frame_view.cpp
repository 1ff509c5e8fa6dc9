#include "app/gui/frame_view.hpp"

#include <QImage>
#include <QPainter>

namespace flywheel::gui {

FrameView::FrameView(QString name, QWidget* parent) : QWidget(parent), name_(std::move(name)) {
  setMinimumSize(160, 120);
}

void FrameView::show(const Image& image) {
  image_ = image;
  error_.clear();
  update();
}

void FrameView::showError(const QString& error) {
  error_ = error;
  update();
}

void FrameView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), QColor(24, 26, 30));
  if (!image_.empty() && error_.isEmpty()) {
    QImage view(image_.pixels.get(), image_.width, image_.height, image_.width * 3, QImage::Format_RGB888);
    QSize size = view.size().scaled(this->size(), Qt::KeepAspectRatio);
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    p.drawImage(QRect(QPoint((width() - size.width()) / 2, (height() - size.height()) / 2), size), view);
  }
  p.setPen(error_.isEmpty() ? Qt::white : QColor(240, 90, 90));
  p.drawText(rect().adjusted(8, 6, -8, -6), Qt::AlignTop | Qt::AlignLeft | Qt::TextWordWrap,
             error_.isEmpty() ? name_ : error_);
}

}  // namespace flywheel::gui
