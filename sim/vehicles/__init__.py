"""Vehicle groups: all vehicles of one type stepped together with numpy (mobile: quadcopter,
fixed wing, UGV; machine: spindle machines)."""
