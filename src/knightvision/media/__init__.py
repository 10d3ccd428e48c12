"""Our own media tools: probing, cutting, frame extraction."""
