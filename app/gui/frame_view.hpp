// Review view: one camera's recorded frame at the playhead, scaled to fit whatever size the layout gives
// it, with the camera's name, or the reason the frame could not be read in red.
#pragma once

#include <QString>
#include <QWidget>

#include "core/types.hpp"

namespace flywheel::gui {

class FrameView : public QWidget {
 public:
  FrameView(QString name, QWidget* parent);
  void show(const Image& image);
  void showError(const QString& error);  // shown instead of the frame until the next show()

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  QString name_;
  Image image_;
  QString error_;
};

}  // namespace flywheel::gui
