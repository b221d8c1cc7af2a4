// Entry point of an agent's own schedule (my_schedule.html renders <hl-my-schedule>).
import "./hl-my-schedule/hl-my-schedule.js";
