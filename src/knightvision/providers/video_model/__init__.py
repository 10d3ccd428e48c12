"""Video model adapters: the offline storyboard renderer now, upstream services later."""
