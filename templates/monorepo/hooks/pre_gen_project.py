"""Check the answers before anything is written, with the rule `hundred init` applies."""

import sys

ANSWERS = {
    "title": {{ cookiecutter.title | jsonify }},
    "author": {{ cookiecutter.author | jsonify }},
    "email": {{ cookiecutter.email | jsonify }},
    "github_owner": {{ cookiecutter.github_owner | jsonify }},
    "github_repo": {{ cookiecutter.github_repo | jsonify }},
    "target": {{ cookiecutter.target | string | jsonify }},
    "start": {{ cookiecutter.start | jsonify }},
    "end": {{ cookiecutter.end | jsonify }},
    "roadmap": {{ cookiecutter.roadmap | jsonify }},
    "license": {{ cookiecutter.license | jsonify }},
}

try:
    from hundred.errors import HundredError
    from hundred.monorepo import validate_answers
except ImportError:
    print("note: hundred is not installed here, so the answers were not checked",
          file=sys.stderr)
else:
    try:
        validate_answers(ANSWERS)
    except HundredError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
