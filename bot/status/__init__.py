"""The status pages (`/status`): sign-in, queries rendered as HTML, and server-side SVG charts."""
