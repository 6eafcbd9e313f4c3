/** Socket.IO rooms: every connection of a user, of a role, and the listeners of a call. */
export const userRoom = (userId: string) => `user:${userId}`;
export const roleRoom = (role: string) => `role:${role}`;
/** The sockets of the supervisors listening to a call; nobody else is ever in it. */
export const listenRoom = (callId: string) => `listen:${callId}`;
