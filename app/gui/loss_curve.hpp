// The training dialog's loss per epoch: train (blue) and held-out (orange) as lines over the epochs so
// far, from 0 to the highest loss seen, with the best held-out epoch marked. Enough to see whether the
// loss still falls and whether the held-out loss has turned up.
#pragma once

#include <QWidget>
#include <vector>

namespace flywheel::gui {

class LossCurve : public QWidget {
  Q_OBJECT
 public:
  explicit LossCurve(QWidget* parent = nullptr);
  void addEpoch(double trainLoss, double heldOutLoss);  // heldOutLoss NaN: nothing held out
  void clear();
  std::size_t epochs() const { return train_.size(); }
  QSize sizeHint() const override { return {420, 160}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  std::vector<double> train_, heldOut_;
};

}  // namespace flywheel::gui
