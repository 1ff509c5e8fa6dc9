// The last seconds of a policy run: one row per answered request, a grey bar from the request to the
// answer (the latency) and a coloured bar for the steps the chunk covers (green accepted, red refused),
// with "now" at the right edge. Shows at a glance whether chunks arrive before the plan runs out.
#pragma once

#include <QWidget>
#include <deque>

#include "policy/chunk_executor.hpp"

namespace flywheel::gui {

class ChunkTimeline : public QWidget {
  Q_OBJECT
 public:
  explicit ChunkTimeline(QWidget* parent = nullptr);
  // events: the executor's recent answers; now: rig clock; stepSeconds: one policy step.
  void setEvents(std::deque<ChunkEvent> events, double now, double stepSeconds);
  QSize sizeHint() const override { return {360, 130}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  std::deque<ChunkEvent> events_;
  double now_ = 0.0;
  double stepSeconds_ = 0.02;
  static constexpr double kWindowSeconds = 6.0;
};

}  // namespace flywheel::gui
