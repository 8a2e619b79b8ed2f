"""The throughput section: weight formats against their floors, step_many
against single steps, two threads against one; its goals, tables and plot."""
