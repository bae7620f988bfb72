"""A stateful fake GitHub for tests: REST endpoints the bot uses, app JWTs, installation tokens, and
real git repositories served over smart HTTP, so a push is a real push.

Response bodies start from the examples of GitHub's REST description (`@octokit/openapi`, MIT, see
`api_examples.LICENSE`) and are overlaid with the fake's state, so githubkit's models parse them.
"""

from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.state import FakeRepo, RecordedRequest

__all__ = ["FakeGitHub", "FakeRepo", "RecordedRequest"]
