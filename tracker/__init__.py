"""AI market-impact tracker."""
