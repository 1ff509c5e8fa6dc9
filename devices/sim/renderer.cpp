#include "devices/sim/renderer.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/imgproc.hpp>

namespace flywheel::sim {
namespace {

using Eigen::Vector3d;
constexpr double kNear = 0.02;

const cv::Vec3d kTableColor{176, 146, 112};
const cv::Vec3d kCubeColor{205, 45, 40};
const cv::Vec3d kBinColor{55, 105, 185};
const cv::Vec3d kArmDark{52, 54, 60};
const cv::Vec3d kArmLight{92, 95, 104};
const Vector3d kLight = Vector3d(0.35, 0.25, 1.0).normalized();

// Camera frame as OpenCV has it: x right, y down, z forward.
struct Projector {
  Eigen::Matrix3d worldToCamera;
  Vector3d eye;
  double focal, cx, cy;

  Vector3d toCamera(const Vector3d& world) const { return worldToCamera * (world - eye); }
  cv::Point2d project(const Vector3d& cam) const {
    return {focal * cam.x() / cam.z() + cx, focal * cam.y() / cam.z() + cy};
  }
};

Projector makeProjector(const CameraView& view, double focal, int width, int height) {
  Vector3d z = view.forward.normalized();
  Vector3d x = z.cross(view.up).normalized();
  Vector3d y = z.cross(x);
  Projector p;
  p.worldToCamera.row(0) = x.transpose();
  p.worldToCamera.row(1) = y.transpose();
  p.worldToCamera.row(2) = z.transpose();
  p.eye = view.eye;
  p.focal = focal;
  p.cx = width / 2.0;
  p.cy = height / 2.0;
  return p;
}

// Sutherland-Hodgman against the near plane, so polygons that pass behind a wrist camera still draw.
std::vector<Vector3d> clipNear(const std::vector<Vector3d>& polygon) {
  std::vector<Vector3d> out;
  for (std::size_t i = 0; i < polygon.size(); ++i) {
    const Vector3d& a = polygon[i];
    const Vector3d& b = polygon[(i + 1) % polygon.size()];
    bool aIn = a.z() >= kNear, bIn = b.z() >= kNear;
    if (aIn) out.push_back(a);
    if (aIn != bIn) out.push_back(a + (b - a) * ((kNear - a.z()) / (b.z() - a.z())));
  }
  return out;
}

cv::Scalar shade(const cv::Vec3d& color, double brightness) {
  brightness = std::clamp(brightness, 0.0, 1.2);
  return {std::min(255.0, color[0] * brightness), std::min(255.0, color[1] * brightness),
          std::min(255.0, color[2] * brightness)};
}

void fillPolygon(cv::Mat& rgb, const Projector& p, const std::vector<Vector3d>& cameraPoints,
                 const cv::Scalar& color) {
  auto clipped = clipNear(cameraPoints);
  if (clipped.size() < 3) return;
  std::vector<cv::Point> pixels;
  for (const auto& c : clipped) {
    cv::Point2d q = p.project(c);
    pixels.emplace_back(static_cast<int>(std::lround(std::clamp(q.x, -1e5, 1e5))),
                        static_cast<int>(std::lround(std::clamp(q.y, -1e5, 1e5))));
  }
  cv::fillPoly(rgb, std::vector<std::vector<cv::Point>>{pixels}, color, cv::LINE_AA);
}

std::vector<Vector3d> boxFace(const Vector3d& center, double yaw, double half, int face) {
  // Corners of an axis-aligned cube face in the cube's frame, then rotated by yaw.
  static const int faces[6][4][3] = {
      {{1, -1, -1}, {1, 1, -1}, {1, 1, 1}, {1, -1, 1}}, {{-1, 1, -1}, {-1, -1, -1}, {-1, -1, 1}, {-1, 1, 1}},
      {{1, 1, -1}, {-1, 1, -1}, {-1, 1, 1}, {1, 1, 1}}, {{-1, -1, -1}, {1, -1, -1}, {1, -1, 1}, {-1, -1, 1}},
      {{-1, -1, 1}, {1, -1, 1}, {1, 1, 1}, {-1, 1, 1}}, {{-1, 1, -1}, {1, 1, -1}, {1, -1, -1}, {-1, -1, -1}}};
  Eigen::AngleAxisd rotation(yaw, Vector3d::UnitZ());
  std::vector<Vector3d> corners;
  for (const auto& c : faces[face])
    corners.push_back(center + rotation * (half * Vector3d(c[0], c[1], c[2])));
  return corners;
}

}  // namespace

struct SceneRenderer::Primitive {
  enum Kind { Polygon, Capsule } kind = Polygon;
  std::vector<Vector3d> points;  // world
  cv::Vec3d color;
  double radius = 0.0;
  bool cullBackFace = false;
  double depth = 0.0;  // filled in per view
};

CameraView lookAt(const Vector3d& eye, const Vector3d& target) {
  return {eye, (target - eye).normalized(), Vector3d::UnitZ()};
}

CameraView wristView(const ArmPose& pose) {
  const Eigen::Matrix3d r = pose.tool.rotation();
  // Behind and above the fingers on the hand, looking along it at what the gripper is about to take.
  Vector3d eye = pose.wrist + r * Vector3d(0.02, 0.0, 0.07);
  Vector3d forward = (pose.fingertip + r * Vector3d(0.04, 0.0, 0.0) - eye).normalized();
  return {eye, forward, r * Vector3d(0.0, 0.0, 1.0)};
}

SceneRenderer::SceneRenderer(int width, int height, double fovDeg)
    : width_(width), height_(height), focal_((width / 2.0) / std::tan(fovDeg * std::numbers::pi / 360.0)) {}

void SceneRenderer::drawTable(const CameraView& view, cv::Mat& rgb) const {
  const Projector p = makeProjector(view, focal_, width_, height_);
  for (int row = 0; row < height_; ++row) {  // a softly lit wall behind the table
    double t = static_cast<double>(row) / height_;
    rgb.row(row).setTo(cv::Scalar(196 - 50 * t, 200 - 48 * t, 208 - 44 * t));
  }
  auto cameraPoints = [&](std::initializer_list<Vector3d> world) {
    std::vector<Vector3d> out;
    for (const auto& w : world)
      out.push_back(p.toCamera(w));
    return out;
  };
  fillPolygon(rgb, p, cameraPoints({{-0.3, -0.8, 0}, {0.9, -0.8, 0}, {0.9, 0.8, 0}, {-0.3, 0.8, 0}}),
              shade(kTableColor, 1.0));
  for (double g = -0.2; g <= 0.85; g += 0.1) {  // faint grid lines give depth cues
    fillPolygon(
        rgb, p,
        cameraPoints(
            {{g, -0.8, 0.0005}, {g + 0.004, -0.8, 0.0005}, {g + 0.004, 0.8, 0.0005}, {g, 0.8, 0.0005}}),
        shade(kTableColor, 0.9));
  }
  for (double g = -0.8; g <= 0.8; g += 0.1) {
    fillPolygon(
        rgb, p,
        cameraPoints(
            {{-0.3, g, 0.0005}, {0.9, g, 0.0005}, {0.9, g + 0.004, 0.0005}, {-0.3, g + 0.004, 0.0005}}),
        shade(kTableColor, 0.9));
  }
}

void SceneRenderer::addBin(const SceneSnapshot& scene, const Eigen::Vector2d& center,
                           std::vector<Primitive>& out) const {
  const double b = scene.binSize / 2.0, h = scene.binHeight;
  const Vector3d c(center.x(), center.y(), 0.0);
  const Vector3d corners[4] = {c + Vector3d(-b, -b, 0), c + Vector3d(b, -b, 0), c + Vector3d(b, b, 0),
                               c + Vector3d(-b, b, 0)};
  out.push_back({Primitive::Polygon,
                 {corners[0] + Vector3d(0, 0, 0.001), corners[1] + Vector3d(0, 0, 0.001),
                  corners[2] + Vector3d(0, 0, 0.001), corners[3] + Vector3d(0, 0, 0.001)},
                 kBinColor * 0.55,
                 0,
                 false});
  for (int i = 0; i < 4; ++i) {
    const Vector3d& a = corners[i];
    const Vector3d& d = corners[(i + 1) % 4];
    out.push_back(
        {Primitive::Polygon, {a, d, d + Vector3d(0, 0, h), a + Vector3d(0, 0, h)}, kBinColor, 0, false});
  }
}

void SceneRenderer::addScene(const SceneSnapshot& scene, std::vector<Primitive>& out) const {
  const double half = scene.cubeSize / 2.0;
  for (int face = 0; face < 6; ++face)
    out.push_back(
        {Primitive::Polygon, boxFace(scene.cubeCenter, scene.cubeYaw, half, face), kCubeColor, 0, true});

  addBin(scene, scene.binCenter, out);
  for (const Eigen::Vector2d& bin : scene.otherBins)
    addBin(scene, bin, out);

  for (const ArmSnapshot& arm : scene.arms) {
    const ArmPose& pose = arm.pose;
    const Eigen::Matrix3d r = pose.tool.rotation();
    const Vector3d palm = pose.fingertip - r * Vector3d(0.05, 0, 0);
    out.push_back({Primitive::Capsule, {pose.base, pose.shoulder}, kArmDark, 0.045});
    out.push_back({Primitive::Capsule, {pose.shoulder, pose.elbow}, kArmLight, 0.028});
    out.push_back({Primitive::Capsule, {pose.elbow, pose.wrist}, kArmLight, 0.024});
    if (arm.drawHand) out.push_back({Primitive::Capsule, {pose.wrist, palm}, kArmDark, 0.022});
    for (double side : {-1.0, 1.0}) {
      Vector3d across = r * Vector3d(0, side * (arm.gripperOpening / 2.0 + 0.006), 0);
      out.push_back({Primitive::Capsule, {palm + across, pose.fingertip + across}, kArmDark * 0.8, 0.007});
    }
  }
}

void SceneRenderer::render(const SceneSnapshot& scene, const CameraView& view, bool staticView,
                           cv::Mat& rgb) {
  if (staticView) {
    if (!haveCachedBackground_) {
      cachedBackground_.create(height_, width_, CV_8UC3);
      drawTable(view, cachedBackground_);
      haveCachedBackground_ = true;
    }
    cachedBackground_.copyTo(rgb);
  } else {
    rgb.create(height_, width_, CV_8UC3);
    drawTable(view, rgb);
  }
  const Projector p = makeProjector(view, focal_, width_, height_);

  // Soft shadows straight below the cube and the gripper.
  for (const Vector3d& caster :
       {scene.cubeCenter, scene.arms.empty() ? scene.cubeCenter : scene.arms[0].pose.fingertip}) {
    double radius = scene.cubeSize * (0.7 + 2.0 * std::max(0.0, caster.z()));
    std::vector<Vector3d> disc;
    for (int k = 0; k < 12; ++k) {
      double a = k * std::numbers::pi / 6.0;
      disc.push_back(
          p.toCamera(Vector3d(caster.x() + radius * std::cos(a), caster.y() + radius * std::sin(a), 0.0008)));
    }
    fillPolygon(rgb, p, disc, shade(kTableColor, 0.78));
  }

  std::vector<Primitive> primitives;
  addScene(scene, primitives);
  for (auto& prim : primitives) {
    double sum = 0.0;
    for (const auto& w : prim.points)
      sum += p.toCamera(w).z();
    prim.depth = sum / static_cast<double>(prim.points.size());
  }
  std::sort(primitives.begin(), primitives.end(),
            [](const Primitive& a, const Primitive& b) { return a.depth > b.depth; });

  for (const Primitive& prim : primitives) {
    if (prim.kind == Primitive::Polygon) {
      Vector3d normal = (prim.points[1] - prim.points[0]).cross(prim.points[2] - prim.points[0]).normalized();
      Vector3d centroid = Vector3d::Zero();
      for (const auto& w : prim.points)
        centroid += w;
      centroid /= static_cast<double>(prim.points.size());
      if (prim.cullBackFace && normal.dot(centroid - view.eye) > 0.0) continue;
      std::vector<Vector3d> cameraPoints;
      for (const auto& w : prim.points)
        cameraPoints.push_back(p.toCamera(w));
      fillPolygon(rgb, p, cameraPoints, shade(prim.color, 0.55 + 0.5 * std::abs(normal.dot(kLight))));
    } else {
      Vector3d a = p.toCamera(prim.points[0]), b = p.toCamera(prim.points[1]);
      if (a.z() < kNear && b.z() < kNear) continue;
      if (a.z() < kNear) a = b + (a - b) * ((b.z() - kNear) / (b.z() - a.z()));
      if (b.z() < kNear) b = a + (b - a) * ((a.z() - kNear) / (a.z() - b.z()));
      double depth = std::max(kNear, 0.5 * (a.z() + b.z()));
      int thickness = std::clamp(static_cast<int>(2.0 * prim.radius * focal_ / depth), 1, 400);
      cv::Point2d pa = p.project(a), pb = p.project(b);
      auto clampPoint = [](cv::Point2d q) {
        return cv::Point(static_cast<int>(std::clamp(q.x, -1e5, 1e5)),
                         static_cast<int>(std::clamp(q.y, -1e5, 1e5)));
      };
      cv::line(rgb, clampPoint(pa), clampPoint(pb), shade(prim.color, 1.0), thickness, cv::LINE_AA);
      // A highlight along the link reads as a rounded surface.
      cv::line(rgb, clampPoint(pa), clampPoint(pb), shade(prim.color, 1.35), std::max(1, thickness / 4),
               cv::LINE_AA);
    }
  }
}

}  // namespace flywheel::sim
