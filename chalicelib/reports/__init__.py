"""Reports for organizers and finance: how each refcode (traffic source) performs."""
