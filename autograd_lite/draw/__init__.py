"""Drawing layer: gradient graphs (`render`, `scene`), backward step frames, `explain`, and the Graphviz program."""
