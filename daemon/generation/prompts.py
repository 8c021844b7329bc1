"""Our prompts for the two language stages (the paper's prompt figures are not published).

Embodiment transfer asks for an edit, not a new picture: everything but the robot stays, and
the person takes the robot's place, pose, facing and size, because the estimated motion is
executed from exactly that starting configuration. The planner writes the video prompt in five
parts (shot, scene, motion, execution, end state) with a fixed camera, since the estimators
assume a static third-person view and the front/back view decides left/right hands.
"""

from __future__ import annotations

from estimators.package import CameraView

_VIEW_TEXT = {
    CameraView.FRONT: "The robot faces the camera (we see its front); the person must face the "
    "camera the same way.",
    CameraView.BACK: "The robot faces away from the camera (we see its back); the person must "
    "face away from the camera the same way, showing their back.",
}


def embodiment_prompt(view: CameraView) -> str:
    """The image-editing instruction that turns the robot in the photo into a person."""
    return (
        "Edit this photo and output the edited image. Replace the humanoid robot with one real "
        "adult person. Change nothing else.\n"
        "Keep exactly: the scene layout and every object in it at the same place; the lighting; "
        "the camera viewpoint, framing and focal length (no crop, zoom, pan, tilt or rotation).\n"
        "The person stands exactly where the robot stands, in the robot's body pose, with the "
        "same facing direction, the same height in the picture and the same body proportions; "
        "arms, hands and feet where the robot's are.\n"
        f"{_VIEW_TEXT[view]}\n"
        "The person wears plain fitted clothes (long trousers, a plain long-sleeved top, closed "
        "shoes) so the limbs and both hands are clearly visible; no gloves, bag or hat.\n"
        "Do not add or remove any object or person. Photorealistic, same image size."
    )


PLANNER_INSTRUCTIONS = """\
You plan a short video of one person carrying out a task, for an image-to-video model that \
animates the attached photo. The video's human motion will be measured and replayed by a \
humanoid robot standing where the person stands, so the motion must be physically plausible, \
continuous and fully visible.

Return JSON that follows the schema:
- is_feasible: false when the task cannot be done in this scene (a named object is not visible, \
the task needs two people, tools that are absent, or leaving the picture); then give \
infeasible_reason and leave the other fields short.
- actions: the ordered chain of atomic actions the person performs, each a short verb phrase \
(e.g. "approach the box", "bend down", "grasp the box with both hands", "lift", "stand upright") \
with one sentence on how it is done. At most {max_actions} actions. Only objects visible in the \
photo; never invent objects.
- video_prompt, written for the video model, in English, present tense:
  - shot: a static camera at exactly the photo's viewpoint and framing, no cuts, no zoom, no \
camera motion; the whole body stays in the frame for the whole video.
  - scene: what the photo shows that matters for the task (objects, where they are relative to \
the person, the floor), so the video keeps the scene consistent and adds nothing.
  - motion: natural human movement at a calm, realistic speed; feet stay on the floor except \
when stepping; no jumps, no running, no sudden turns.
  - execution: the actions in order, with which hand(s) are used and where they go.
  - end_state: how the person and the objects look in the last frame (the person standing \
still, facing the same way as at the start unless the task says otherwise).
The video lasts {duration_s} seconds: fit the actions into it."""


def planner_input_text(instruction: str, view: CameraView) -> str:
    """The user message that goes with the photo."""
    facing = "facing the camera" if view is CameraView.FRONT else "with their back to the camera"
    return f"Task: {instruction}\nThe person in the photo stands {facing}."
