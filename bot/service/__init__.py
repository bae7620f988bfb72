"""The service shell: the FastAPI app, `evolve serve`'s roles, `/setup`, start-up checks and the routers combined."""
