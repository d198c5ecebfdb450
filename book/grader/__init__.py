"""The grader: a submission's visible and hidden checks, its learner code run apart from the checks, and its report."""
