// Review view: every follower joint over the whole episode, each normalised to its own range, with a
// red playhead line and the idle head and tail (no joint moving) shaded.
#pragma once

#include <QWidget>
#include <vector>

namespace flywheel::gui {

class JointPlot : public QWidget {
 public:
  explicit JointPlot(QWidget* parent);
  void setData(std::vector<double> qpos, std::size_t joints);  // qpos: [ticks, joints] row-major
  void setPlayhead(double fraction);                           // 0 = first tick, 1 = last
  // Shares of the episode's duration that are idle at its start and at its end (0: none shaded).
  void setIdle(double headFraction, double tailFraction);
  double idleHead() const { return idleHead_; }
  double idleTail() const { return idleTail_; }

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  std::vector<double> qpos_;
  std::size_t joints_ = 0;
  double playhead_ = 0.0;
  double idleHead_ = 0.0, idleTail_ = 0.0;
};

}  // namespace flywheel::gui
