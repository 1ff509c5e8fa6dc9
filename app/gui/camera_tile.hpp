// Shows a camera's newest frame, scaled to fit, with its name and measured fps. Frames arrive through the
// camera's latest-frame handoff: the GUI polls at screen rate and never blocks a camera or the loop.
#pragma once

#include <QWidget>

#include "core/hardware.hpp"

namespace flywheel::gui {

class CameraTile : public QWidget {
  Q_OBJECT
 public:
  CameraTile(Camera& camera, QWidget* parent = nullptr);
  void refresh();  // picks up a new frame if there is one
  std::uint64_t framesShown() const { return framesShown_; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  Camera& camera_;
  CameraFrame frame_;  // keeps the pixels alive while painted
  std::uint64_t framesShown_ = 0;
};

}  // namespace flywheel::gui
