"""The Streamlit dashboard (reads only, through tracker.query)."""
