// Draws the table scene with OpenCV from a pinhole camera: flat-shaded polygons and capsules, sorted far to
// near. Not photo-real, but the cube, bin, arm links and gripper are where a policy would need to see them.
#pragma once

#include <Eigen/Geometry>
#include <opencv2/core.hpp>

#include "devices/sim/scene.hpp"

namespace flywheel::sim {

struct CameraView {
  Eigen::Vector3d eye;
  Eigen::Vector3d forward;  // unit
  Eigen::Vector3d up;       // a hint, need not be orthogonal
};

class SceneRenderer {
 public:
  SceneRenderer(int width, int height, double fovDeg);
  // Renders into `rgb` (CV_8UC3, RGB order). `staticView` lets the table be drawn once and reused.
  void render(const SceneSnapshot& scene, const CameraView& view, bool staticView, cv::Mat& rgb);

 private:
  struct Primitive;
  void drawTable(const CameraView& view, cv::Mat& rgb) const;
  void addScene(const SceneSnapshot& scene, std::vector<Primitive>& out) const;
  void addBin(const SceneSnapshot& scene, const Eigen::Vector2d& center, std::vector<Primitive>& out) const;

  int width_, height_;
  double focal_;
  cv::Mat cachedBackground_;
  bool haveCachedBackground_ = false;
};

CameraView lookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target);
// A camera on the wrist, looking along the hand, as ALOHA's wrist cameras do.
CameraView wristView(const ArmPose& pose);

}  // namespace flywheel::sim
