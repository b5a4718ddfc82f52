"""HTML pages for people: server-rendered, accessible, every action works without JavaScript."""
