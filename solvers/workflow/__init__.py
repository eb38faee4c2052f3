"""The workflow engine: HEFT list scheduling and critical-path improvement for tasks with
dependencies (`Task.after`), returning verified schedules.
"""
